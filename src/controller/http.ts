import { timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { DEBUG_TOKEN_HEADER, DEBUG_TOKEN_SECRET } from '../constants.js';
import { CONFIG_DUMP_PATH, SYNCZ_PATH } from '../xds/syncz.js';
import type { ControlPlane } from './controlplane.js';

/** Who may read /debug/*: see {@link startIntrospection}. */
export interface DebugAccess {
  /** The token a request must carry in DEBUG_TOKEN_HEADER (undefined: no token is accepted). */
  token?: () => string | undefined;
  /** Whether requests from a loopback address need no token (default true: kubectl exec, a local controller). */
  loopback?: boolean;
}

function isLoopback(address: string | undefined): boolean {
  return address !== undefined && (address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.'));
}

/** Whether a request may read /debug/*: from loopback (when allowed), or with the token. */
export function debugAllowed(req: IncomingMessage, access: DebugAccess): boolean {
  if (access.loopback !== false && isLoopback(req.socket.remoteAddress)) return true;
  const want = access.token?.();
  const got = req.headers[DEBUG_TOKEN_HEADER];
  if (!want || typeof got !== 'string') return false;
  const a = Buffer.from(got);
  const b = Buffer.from(want);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * The introspection server: /metrics (Prometheus), /debug/syncz (per proxy: connected, versions
 * sent and acked per type, last NACK), /debug/config_dump?proxy=ID (secrets redacted), /healthz
 * (the process is up) and /readyz (a model is built and ADS listens). /debug/* shows every proxy's
 * config, so it answers only requests from loopback or carrying the token of Secret
 * DEBUG_TOKEN_SECRET in DEBUG_TOKEN_HEADER (`access`); others get 401.
 */
export function startIntrospection(cp: ControlPlane, listen: { host?: string; port?: number }, access: DebugAccess = {}): Promise<{ server: Server; port: number }> {
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
    if (url.pathname.startsWith('/debug/') && !debugAllowed(req, access)) {
      return json(401, { error: `the /debug endpoints answer requests from localhost, or with the token of Secret ${DEBUG_TOKEN_SECRET} (key token, in the mesh namespace) in header ${DEBUG_TOKEN_HEADER}; mesh proxy-status sends it when you may read that Secret` });
    }
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
