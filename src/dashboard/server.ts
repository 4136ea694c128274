import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { MeshError, toMeshError } from '../errors.js';
import type { DashboardHub, HubUpdate } from './hub.js';

/**
 * The dashboard's HTTP side: the bundled page (dist/dashboard/web), the data API and the SSE
 * stream, behind a random access token. Secure by default: it listens on 127.0.0.1 unless told
 * otherwise; the token arrives once in the URL and is then kept in an HttpOnly, SameSite=Strict
 * cookie (or sent as `Authorization: Bearer`); the Host header must name this server (DNS
 * rebinding); changes (POST, only with actions enabled) also need the CSRF token the data API
 * hands the page and an Origin of this server.
 */

/** What a promote/rollback does; the run side binds it to src/route's finishRoute. */
export type RouteAction = (which: 'promote' | 'rollback', namespace: string, name: string) => Promise<void>;
/** What `mesh proxy-config -o json` shows for a proxy (NAMESPACE and NAME, TYPE/NAME or a pod name). */
export type ProxyConfigReader = (namespace: string, target: string) => Promise<Record<string, unknown>>;

/** Options of {@link startDashboardServer}. */
export interface DashboardServerOptions {
  hub: DashboardHub;
  /** Interface to listen on (default 127.0.0.1). */
  address?: string;
  /** 0: a free port. */
  port: number;
  /** Access token (default: 32 random bytes, base64url). */
  token?: string;
  /** Where the built page lives (default: dist/dashboard/web beside this module). */
  assetsDir?: string;
  /** Present only with --allow-actions. */
  action?: RouteAction;
  proxyConfig?: ProxyConfigReader;
  /** Seconds between SSE keep-alive comments (default 15). */
  keepAliveSeconds?: number;
}

/** A running dashboard server. */
export interface DashboardServer {
  /** The URL to open, with the token: http://HOST:PORT/?token=... */
  url: string;
  /** The URL without the token (for logs). */
  origin: string;
  port: number;
  /** Open SSE streams (pages listening). */
  clients(): number;
  close(): Promise<void>;
}

const COOKIE = 'mesh_dashboard';
const ASSETS: Record<string, string> = {
  '/': 'index.html',
  '/app.js': 'app.js',
  '/app.css': 'app.css',
};
const TYPES: Record<string, string> = { html: 'text/html; charset=utf-8', js: 'text/javascript; charset=utf-8', css: 'text/css; charset=utf-8' };

/** Where the bundle is: beside the compiled module (dist/dashboard/web), else dist/ from the sources (tests through tsx). */
export function defaultAssetsDir(): string {
  const beside = fileURLToPath(new URL('./web/', import.meta.url));
  if (existsSync(beside)) return beside;
  return fileURLToPath(new URL('../../dist/dashboard/web/', import.meta.url));
}

/** Compare two secrets in constant time (their digests, so lengths do not leak either). */
export function sameSecret(a: string, b: string): boolean {
  const d = (s: string) => createHash('sha256').update(s).digest();
  return timingSafeEqual(d(a), d(b));
}

function cookieOf(req: IncomingMessage, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return v.join('=');
  }
  return undefined;
}

const SECURITY_HEADERS: Record<string, string> = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  // The token is in the first URL: never send it on as a Referer.
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8', headers: Record<string, string> = {}): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': type, ...headers }).end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  send(res, status, JSON.stringify(value), 'application/json');
}

function errorJson(res: ServerResponse, err: unknown): void {
  const e = toMeshError(err);
  sendJson(res, e instanceof MeshError && e.exitCode === 2 ? 400 : 500, { error: e.message, hint: e.hint ?? null });
}

async function readBody(req: IncomingMessage, limit = 16 * 1024): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += String(chunk);
    if (body.length > limit) throw new MeshError('request body too large', { exitCode: 2 });
  }
  return body;
}

/** Start the server; resolves once it listens. */
export async function startDashboardServer(opts: DashboardServerOptions): Promise<DashboardServer> {
  const token = opts.token ?? randomBytes(32).toString('base64url');
  const csrf = randomBytes(32).toString('base64url');
  const assetsDir = opts.assetsDir ?? defaultAssetsDir();
  const address = opts.address ?? '127.0.0.1';
  const streams = new Set<ServerResponse>();
  let port = 0;
  const hostPart = address.includes(':') ? `[${address}]` : address;
  const allowedHosts = (): Set<string> => new Set([`${hostPart}:${port}`, `localhost:${port}`, `127.0.0.1:${port}`]);

  const authorized = (req: IncomingMessage, url: URL): 'cookie' | 'query' | undefined => {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const fromCookie = cookieOf(req, COOKIE);
    if ((bearer && sameSecret(bearer, token)) || (fromCookie && sameSecret(fromCookie, token))) return 'cookie';
    const q = url.searchParams.get('token');
    return q && sameSecret(q, token) ? 'query' : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const url = new URL(req.url ?? '/', 'http://dashboard');
    if (!allowedHosts().has(req.headers.host ?? '')) return send(res, 421, 'this dashboard answers only to the address it printed\n');
    const auth = authorized(req, url);
    if (!auth) return send(res, 401, 'missing or wrong access token: open the URL "mesh dashboard" printed (it carries ?token=...)\n', 'text/plain; charset=utf-8', { 'www-authenticate': 'Bearer realm="mesh dashboard"' });
    if (auth === 'query') {
      // Trade the token in the URL for a cookie once, and drop it from the address bar and history.
      url.searchParams.delete('token');
      return send(res, 303, '', 'text/plain', { location: url.pathname + url.search, 'set-cookie': `${COOKIE}=${token}; HttpOnly; SameSite=Strict; Path=/` });
    }
    if (req.method === 'POST') return post(req, res, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'method not allowed\n', 'text/plain', { allow: 'GET, POST' });
    const asset = ASSETS[url.pathname];
    if (asset) {
      const file = `${assetsDir}/${asset}`;
      let body: Buffer;
      try {
        body = await readFile(file);
      } catch {
        return send(res, 500, `the dashboard page is not built (${file} missing): run "npm run build"\n`);
      }
      res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': TYPES[asset.split('.').pop()!]! }).end(body);
      return;
    }
    if (url.pathname === '/api/data') return sendJson(res, 200, { data: opts.hub.current(), csrf: opts.action ? csrf : null });
    if (url.pathname === '/api/history') return sendJson(res, 200, opts.hub.historyOf(url.searchParams.get('node') ?? ''));
    if (url.pathname === '/api/events') return events(req, res);
    if (url.pathname === '/api/proxy-config') {
      const ns = url.searchParams.get('namespace');
      const target = url.searchParams.get('target');
      if (!ns || !target || !opts.proxyConfig) return sendJson(res, 400, { error: 'pass namespace and target (e.g. deploy/web or a pod name)' });
      try {
        return sendJson(res, 200, await opts.proxyConfig(ns, target));
      } catch (err) {
        return errorJson(res, err);
      }
    }
    return send(res, 404, 'not found\n');
  };

  const post = async (req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> => {
    const m = /^\/api\/routes\/([^/]+)\/([^/]+)\/(promote|rollback)$/.exec(url.pathname);
    // Without --allow-actions there is nothing to POST to: the page shows no buttons and the API has no such path.
    if (!opts.action || !m) return send(res, 404, 'not found\n');
    const origin = req.headers.origin;
    if (!origin || !allowedHosts().has(origin.replace(/^http:\/\//, ''))) return sendJson(res, 403, { error: 'cross-site request refused (Origin is not this dashboard)' });
    const sent = req.headers['x-mesh-csrf'];
    if (typeof sent !== 'string' || !sameSecret(sent, csrf)) return sendJson(res, 403, { error: 'missing or wrong CSRF token' });
    try {
      await readBody(req);
      await opts.action(m[3] as 'promote' | 'rollback', decodeURIComponent(m[1]!), decodeURIComponent(m[2]!));
      return sendJson(res, 200, { ok: true });
    } catch (err) {
      return errorJson(res, err);
    }
  };

  const events = (req: IncomingMessage, res: ServerResponse): void => {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/event-stream', connection: 'keep-alive' });
    res.write(': mesh dashboard\n\n');
    streams.add(res);
    const write = (u: HubUpdate) => void res.write(`event: update\ndata: ${u.json()}\n\n`);
    const unsubscribe = opts.hub.subscribe(write);
    const keepAlive = setInterval(() => void res.write(': keep-alive\n\n'), (opts.keepAliveSeconds ?? 15) * 1000);
    keepAlive.unref();
    req.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
      streams.delete(res);
    });
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) errorJson(res, err);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(err.code === 'EADDRINUSE' ? new MeshError(`port ${opts.port} on ${address} is in use`, { hint: 'pass another --port, or --port 0 for a free one', exitCode: 2 }) : err));
    server.listen(opts.port, address, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const origin = `http://${hostPart}:${port}`;
  return {
    url: `${origin}/?token=${token}`,
    origin,
    port,
    clients: () => streams.size,
    close: async () => {
      for (const s of streams) s.end();
      server.closeAllConnections();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}
