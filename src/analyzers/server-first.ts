import { CODES } from './codes.js';
import { arr, refOf, str, where, type AnalysisIndex } from './lookup.js';
import { isObject } from '../util/object.js';
import type { Analyzer, Finding } from './types.js';

/**
 * Well-known ports whose protocol the server speaks first (a banner or greeting before the client
 * sends anything). An HTTP or gRPC listener waits for the client's request, the client waits for
 * the greeting, and the connection hangs until a timeout (linkerd2#339, #1505). mesh never sniffs,
 * so this only bites when a port is declared HTTP/gRPC; PostgreSQL, MongoDB, Redis and TLS ports
 * are client-first and not listed.
 */
export const SERVER_FIRST_PORTS: Readonly<Record<number, string>> = {
  21: 'FTP',
  22: 'SSH',
  25: 'SMTP',
  110: 'POP3',
  143: 'IMAP',
  587: 'SMTP submission',
  3306: 'MySQL',
  4222: 'NATS',
  6222: 'NATS cluster',
};

const HTTP_PREFIXES = new Set(['http', 'http2', 'h2c', 'grpc', 'grpc-web']);
const HTTP_APP_PROTOCOLS = new Set(['http', 'http2', 'h2c', 'grpc', 'grpc-web', 'kubernetes.io/h2c']);

/** The HTTP-family protocol a Service port declares (appProtocol first, then the name prefix), or undefined. */
function declaredHttp(p: Record<string, unknown>): string | undefined {
  const app = str(p.appProtocol)?.toLowerCase();
  if (app !== undefined) return HTTP_APP_PROTOCOLS.has(app) ? `appProtocol ${app}` : undefined;
  const name = str(p.name) ?? '';
  const prefix = name.toLowerCase().startsWith('grpc-web') ? 'grpc-web' : name.split('-')[0]!.toLowerCase();
  return HTTP_PREFIXES.has(prefix) ? `name ${name}` : undefined;
}

/** Service ports declared HTTP/gRPC on a server-speaks-first port (MSH0019): those connections hang. */
export const serverFirstPorts: Analyzer<AnalysisIndex> = {
  name: 'server-first ports',
  codes: [CODES.serverFirstHttp],
  analyze(index) {
    const out: Finding[] = [];
    for (const s of index.services.values()) {
      const spec = isObject(s.object.spec) ? s.object.spec : {};
      for (const p of arr(spec.ports)) {
        if (p.protocol !== undefined && p.protocol !== 'TCP') continue;
        const declared = declaredHttp(p);
        if (!declared) continue;
        const numbers = [p.port, p.targetPort].filter((n): n is number => typeof n === 'number');
        const hit = numbers.find((n) => Object.hasOwn(SERVER_FIRST_PORTS, n));
        if (hit === undefined) continue;
        const proto = SERVER_FIRST_PORTS[hit]!;
        out.push({
          code: CODES.serverFirstHttp.code,
          severity: CODES.serverFirstHttp.severity,
          message: `port ${String(p.port)} is declared HTTP/gRPC (${declared}) but ${hit} is ${proto}, where the server speaks first: connections hang waiting for a request; name it tcp-${proto.split(' ')[0]!.toLowerCase()} or set appProtocol: tcp`,
          resource: refOf(s.object),
          ...where(s),
        });
      }
    }
    return out;
  },
};
