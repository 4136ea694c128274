import { createServer, type Server } from 'node:http';
import { CONFIG_DUMP_PATH, SYNCZ_PATH } from '../xds/syncz.js';
import type { ControlPlane } from './controlplane.js';

/**
 * The introspection server: /metrics (Prometheus), /debug/syncz (per proxy: connected, versions
 * sent and acked per type, last NACK), /debug/config_dump?proxy=ID (secrets redacted), /healthz
 * (the process is up) and /readyz (a model is built and ADS listens).
 */
export function startIntrospection(cp: ControlPlane, listen: { host?: string; port?: number }): Promise<{ server: Server; port: number }> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const json = (code: number, body: unknown): void => {
      res.writeHead(code, { 'content-type': 'application/json' });
      res.end(`${JSON.stringify(body, null, 2)}\n`);
    };
    const text = (code: number, body: string, type = 'text/plain'): void => {
      res.writeHead(code, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return text(405, 'method not allowed\n');
    switch (url.pathname) {
      case '/healthz':
        return text(200, 'ok\n');
      case '/readyz':
        return cp.ready ? text(200, 'ready\n') : text(503, 'not ready: no model yet\n');
      case '/metrics':
        cp.metrics.registry.metrics().then(
          (m) => text(200, m, cp.metrics.registry.contentType),
          (err: Error) => text(500, `${err.message}\n`),
        );
        return;
      case SYNCZ_PATH:
        return json(200, cp.syncz());
      case CONFIG_DUMP_PATH: {
        const id = url.searchParams.get('proxy');
        if (!id) return json(400, { error: 'give ?proxy=ID (IDs are listed by /debug/syncz)' });
        const dump = cp.configDump(id);
        return dump ? json(200, dump) : json(404, { error: `no proxy ${id} is connected` });
      }
      default:
        return text(404, 'not found: try /metrics, /debug/syncz, /debug/config_dump?proxy=ID, /healthz, /readyz\n');
    }
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, listen.host ?? '0.0.0.0', () => {
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : 0 });
    });
  });
}
