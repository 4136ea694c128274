// The HTTPS front of the test API server: authentication, faults and latency, routing of
// discovery / OpenAPI / resource paths, authorization, watch streams, tables and pod proxy.
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer } from 'ws';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import { admit, hasWebhooks, type WebhookServices } from './admission.ts';
import { Api, PATCH_TYPES, type WriteOptions } from './api.ts';
import { Auth, DEFAULT_AUDIENCE, type Attributes, type Rule, type UserInfo } from './auth.ts';
import { servingCerts, type ServingCerts } from './certs.ts';
import * as D from './discovery.ts';
import * as E from './errors.ts';
import { isObj } from './patch.ts';
import { decodeProtobuf } from './protobuf.ts';
import { apiVersionOf, Registry, verbsOf, type ResourceDef } from './resources.ts';
import { fieldSelector, labelSelector } from './selectors.ts';
import { resKey, Store, type KObj, type StoreEvent } from './store.ts';
import { toTable } from './table.ts';

type Obj = Record<string, unknown>;

/** A failure (or delay) injected into matching requests. Unset fields match anything. */
export interface Fault {
  verb?: string;
  /** Plural resource name, e.g. "pods"; "pods/proxy" matches the subresource. */
  resource?: string;
  group?: string;
  namespace?: string;
  name?: string;
  /** Non-resource path prefix, e.g. "/apis". */
  path?: string;
  /** HTTP status answered (as a Status with the matching reason); unset means delay only. */
  code?: number;
  message?: string;
  /** Extra latency before answering, in ms. */
  delayMs?: number;
  /** Fire this many times, then stop (default: always). */
  times?: number;
  /** Send Retry-After (and details.retryAfterSeconds), as API priority and fairness does with 429. */
  retryAfterSeconds?: number;
}

/** What a pod proxy handler receives: GET /api/v1/namespaces/NS/pods/NAME[:PORT]/proxy/PATH. */
export interface PodProxyRequest {
  method: string;
  namespace: string;
  pod: string;
  port?: string;
  /** Path after /proxy, starting with "/". */
  path: string;
  /** Raw query string without "?". */
  query: string;
  body: string;
  /** Request headers a real API server passes on to the pod (not Authorization). */
  headers: Record<string, string>;
}
/** What a pod port-forward reaches: the connection for one forwarded stream, or undefined (refused). */
export type PodPortForwardHandler = (req: { namespace: string; pod: string; port: number }) => Duplex | undefined;

/** A pod proxy answer: text (200) or a status with body. */
export type PodProxyResponse = string | { status?: number; body?: string; contentType?: string };
/** Answers pod proxy requests for the pods it is registered for. */
export type PodProxyHandler = (req: PodProxyRequest) => PodProxyResponse | Promise<PodProxyResponse>;

/** One handled request, for tests that assert what a client sent. */
export interface RequestRecord {
  method: string;
  path: string;
  query: string;
  /** The request target as the client sent it (path and query, before any parsing). */
  target?: string;
  verb?: string;
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  user?: string;
  contentType?: string;
  userAgent?: string;
  code: number;
  /** When the request arrived and when its answer was sent (performance.now() ms): a bench finds the chain of requests one after another. */
  startMs?: number;
  endMs?: number;
}

/** Options of a test API server. */
export interface ApiServerOptions {
  /** Port to listen on (default: a free one). */
  port?: number;
  /** Events kept for resuming watches (default 1000); older resourceVersions get 410 Gone. */
  historySize?: number;
  /** How often watches with allowWatchBookmarks get a BOOKMARK (default 1000 ms). */
  bookmarkIntervalMs?: number;
}

interface Target {
  def: ResourceDef;
  version: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  subpath?: string;
}

const SELF_REVIEWS = new Set(['tokenreviews', 'selfsubjectaccessreviews', 'selfsubjectrulesreviews', 'subjectaccessreviews', 'selfsubjectreviews']);

/** The test API server. Create with `ApiServer.start()`; everything on it is public for tests to steer. */
export class ApiServer {
  readonly store: Store;
  readonly registry = new Registry();
  readonly api: Api;
  readonly auth = new Auth();
  /** Token of the built-in cluster admin (user "admin", group system:masters). */
  readonly adminToken: string;
  /** Added to every request, in ms. */
  latencyMs = 0;
  /** Recent requests, newest last (bounded by `requestHistory`). */
  readonly requests: RequestRecord[] = [];
  /** How many requests `requests` keeps (default 1000; a bench that counts a large run raises it). */
  requestHistory = 1000;
  /** Every request handled since start, including those `requests` no longer keeps. */
  requestCount = 0;
  /** TLS connections accepted since start (a client that keeps connections alive opens few). */
  connectionCount = 0;
  /** Where webhook Services listen: "namespace/name" or "namespace/name:port" -> "https://127.0.0.1:PORT". */
  readonly webhookServices: WebhookServices = new Map();
  bookmarkIntervalMs: number;

  private readonly faults: Fault[] = [];
  private readonly proxies = new Map<string, PodProxyHandler>();
  private readonly forwards = new Map<string, PodPortForwardHandler>();
  private readonly logs = new Map<string, string>();
  private readonly watches = new Set<ServerResponse>();
  private readonly sockets = new Set<Socket>();
  private server?: Server;
  private certs?: ServingCerts;
  private boundPort: number;

  private constructor(opts: ApiServerOptions) {
    this.store = new Store();
    if (opts.historySize) this.store.historySize = opts.historySize;
    this.api = new Api(this.store, this.registry);
    this.adminToken = this.auth.addToken({ username: 'admin', groups: ['system:masters'] });
    this.bookmarkIntervalMs = opts.bookmarkIntervalMs ?? 1000;
    this.boundPort = opts.port ?? 0;
    const pods = this.registry.find('', 'v1', 'pods')!;
    // Bound tokens name a pod that existed when they were issued: deleted (or replaced) pods invalidate them.
    this.auth.boundPodCheck = (namespace, pod, uid) => {
      const p = this.store.get(pods, namespace, pod);
      if (!p) return uid === undefined ? undefined : 'service account token has been invalidated';
      if (uid !== undefined && p.metadata.uid !== uid) return `pod UID (${p.metadata.uid}) does not match claim (${uid})`;
      return undefined;
    };
    const ns = this.registry.find('', 'v1', 'namespaces')!;
    for (const n of ['default', 'kube-system', 'kube-public', 'kube-node-lease']) this.api.create(ns, undefined, { metadata: { name: n } }, { manager: 'kube-apiserver' });
  }

  /** Start a server on 127.0.0.1 (a free port unless `opts.port`). */
  static async start(opts: ApiServerOptions = {}): Promise<ApiServer> {
    const s = new ApiServer(opts);
    s.certs = await servingCerts();
    await s.listen();
    return s;
  }

  /** https://127.0.0.1:PORT */
  get url(): string {
    return `https://127.0.0.1:${this.boundPort}`;
  }
  get port(): number {
    return this.boundPort;
  }
  /** PEM of the CA that signed the serving certificate. */
  get caPem(): string {
    return this.certs!.caPem;
  }
  get running(): boolean {
    return this.server !== undefined;
  }

  private listen(): Promise<void> {
    const srv = createServer({ key: this.certs!.keyPem, cert: this.certs!.certPem }, (req, res) => void this.handle(req, res));
    srv.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.portForward(req, socket, head));
    srv.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    srv.on('secureConnection', (s: Socket) => {
      this.connectionCount++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    return new Promise((resolve, reject) => {
      srv.once('error', reject);
      srv.listen(this.boundPort, '127.0.0.1', () => {
        srv.off('error', reject);
        this.boundPort = (srv.address() as { port: number }).port;
        this.server = srv;
        resolve();
      });
    });
  }

  /** Go away: close the port and every connection (watches end abruptly). Data is kept. */
  async stop(): Promise<void> {
    const srv = this.server;
    if (!srv) return;
    this.server = undefined;
    for (const w of this.watches) w.destroy();
    this.watches.clear();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => srv.close(() => resolve()));
  }

  /** Come back on the same port with the same data. */
  async restart(): Promise<void> {
    await this.stop();
    await this.listen();
  }

  /** End every open watch (cleanly by default; `abrupt` destroys the connections instead). */
  dropWatches(opts: { abrupt?: boolean } = {}): number {
    const n = this.watches.size;
    for (const w of this.watches) {
      if (opts.abrupt) w.destroy();
      else w.end();
    }
    this.watches.clear();
    return n;
  }

  /** Number of watch streams open now. */
  get openWatches(): number {
    return this.watches.size;
  }

  /**
   * Resolves once `n` watch streams are open (e.g. a client under test has started watching).
   * `timeoutMs` only bounds a hang: it is an event wait, and a busy machine must not fail it.
   */
  watchesOpen(n = 1, timeoutMs = 60_000): Promise<void> {
    return this.waitUntil(() => this.watches.size >= n, timeoutMs, `${n} open watch(es)`);
  }

  /**
   * Resolves once `check()` is true, re-checking after every change in the store and every new
   * watch (no polling). Rejects after `timeoutMs` naming `what` (a bound on a hang, not a
   * deadline the condition must meet: keep it generous).
   */
  until(check: () => boolean, timeoutMs = 60_000, what = 'condition'): Promise<void> {
    return this.waitUntil(check, timeoutMs, what);
  }

  private readonly waiters = new Set<() => void>();
  private waitUntil(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const probe = () => {
        if (!check()) return;
        cleanup();
        resolve();
      };
      const unsubscribe = this.store.subscribe(probe);
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
      }, timeoutMs);
      const cleanup = () => {
        unsubscribe();
        clearTimeout(timer);
        this.waiters.delete(probe);
      };
      this.waiters.add(probe);
    });
  }

  /** Inject a fault; returns a function that removes it. */
  addFault(f: Fault): () => void {
    const entry = { ...f };
    this.faults.push(entry);
    return () => {
      const i = this.faults.indexOf(entry);
      if (i >= 0) this.faults.splice(i, 1);
    };
  }

  /** Remove every injected fault. */
  clearFaults(): void {
    this.faults.length = 0;
  }

  /** Answer pod proxy requests for NS/POD ("*" as pod: every pod of the namespace; "*" as namespace: every pod). */
  setPodProxy(namespace: string, pod: string, handler: PodProxyHandler | undefined): void {
    const k = `${namespace}/${pod}`;
    if (handler) this.proxies.set(k, handler);
    else this.proxies.delete(k);
  }

  /**
   * Answer pod port-forwards (`kubectl port-forward`, client-node's PortForward) for NS/POD ("*"
   * as for setPodProxy): `handler` opens the connection a forwarded stream talks to.
   */
  setPodPortForward(namespace: string, pod: string, handler: PodPortForwardHandler | undefined): void {
    const k = `${namespace}/${pod}`;
    if (handler) this.forwards.set(k, handler);
    else this.forwards.delete(k);
  }

  /**
   * GET /api/v1/namespaces/NS/pods/NAME/portforward?ports=P upgraded to a WebSocket
   * (v4.channel.k8s.io, as the real server speaks it to WebSocket clients): the first frame of
   * channels 0 (data) and 1 (error) carries the port, little-endian; then each binary message is
   * a channel byte and data. RBAC: create on pods/portforward. One port per request.
   */
  private portForward(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const refuse = (code: number, text: string) => {
      socket.end(`HTTP/1.1 ${code} ${text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    };
    const url = new URL(req.url ?? '/', 'https://x');
    const m = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/portforward$/.exec(url.pathname);
    if (!m) return refuse(404, 'Not Found');
    const [namespace, pod] = [decodeURIComponent(m[1]!), decodeURIComponent(m[2]!)];
    let user: UserInfo;
    try {
      user = this.impersonate(req, this.authenticate(req));
    } catch {
      return refuse(401, 'Unauthorized');
    }
    if (!this.auth.authorize(user, { verb: 'create', group: '', resource: 'pods', subresource: 'portforward', namespace, name: pod })) return refuse(403, 'Forbidden');
    const handler = this.forwards.get(`${namespace}/${pod}`) ?? this.forwards.get(`${namespace}/*`) ?? this.forwards.get('*/*');
    const port = Number(url.searchParams.get('ports'));
    if (!handler || !Number.isInteger(port) || port < 1 || port > 65535) return refuse(handler ? 400 : 404, handler ? 'Bad Request' : 'Not Found');
    const wss = new WebSocketServer({ noServer: true, handleProtocols: (offered) => (offered.has('v4.channel.k8s.io') ? 'v4.channel.k8s.io' : false) });
    wss.handleUpgrade(req, socket, head, (ws) => {
      const portBytes = [port & 0xff, port >> 8];
      ws.send(Buffer.from([0, ...portBytes]));
      ws.send(Buffer.from([1, ...portBytes]));
      const conn = handler({ namespace, pod, port });
      if (!conn) {
        ws.send(Buffer.concat([Buffer.from([1]), Buffer.from(`error forwarding port ${port} to pod ${pod}: connection refused`)]));
        ws.close();
        return;
      }
      conn.on('data', (d: Buffer) => ws.send(Buffer.concat([Buffer.from([0]), d])));
      conn.on('close', () => ws.close());
      conn.on('error', () => ws.close());
      ws.on('message', (data: Buffer, isBinary: boolean) => {
        if (isBinary && data[0] === 0) conn.write(data.subarray(1));
      });
      ws.on('close', () => conn.destroy());
    });
  }

  /** Text `kubectl logs` / GET pods/NAME/log returns for a pod's container. */
  setPodLogs(namespace: string, pod: string, container: string, text: string): void {
    this.logs.set(`${namespace}/${pod}/${container}`, text);
  }

  /** A user with a token and these allow rules (see `Auth` for deny rules and service-account tokens). */
  addUser(username: string, rules: Rule[] = [], opts: { groups?: string[]; token?: string; audiences?: string[] } = {}): string {
    if (rules.length) this.auth.allow(username, rules);
    return this.auth.addToken({ username, groups: opts.groups ?? [] }, { token: opts.token, audiences: opts.audiences });
  }

  /** The resource serving KIND in GROUP (built-in or from a CRD). */
  resource(group: string, kind: string): ResourceDef {
    const d = this.registry.byKind(group, kind);
    if (!d) throw new Error(`no resource for kind ${kind} in group "${group}"`);
    return d;
  }

  /** Put objects in the store as the admin would create them (namespaces first; existing ones are replaced). */
  seed(objects: Obj[]): KObj[] {
    const flat = objects.flatMap((o) => (o.kind === 'List' && Array.isArray(o.items) ? (o.items as Obj[]) : [o]));
    const sorted = [...flat].sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace') || Number(b.kind === 'CustomResourceDefinition') - Number(a.kind === 'CustomResourceDefinition'));
    return sorted.map((o) => {
      const [group, version] = String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/') : ['', String(o.apiVersion)];
      const def = this.registry.find(group!, version!, this.resource(group!, String(o.kind)).resource)!;
      const m = (o.metadata ?? {}) as Obj;
      const ns = def.namespaced ? String(m.namespace ?? 'default') : undefined;
      const existing = this.store.get(def, ns, String(m.name));
      const status = o.status;
      let out = existing ? this.api.update(def, ns, String(m.name), { ...o, metadata: { ...m, resourceVersion: undefined } }, { manager: 'seed' }) : this.api.create(def, ns, o, { manager: 'seed' });
      if (status !== undefined && def.subresources?.includes('status')) out = this.api.update(def, ns, out.metadata.name, { ...out, status }, { manager: 'seed' }, 'status');
      return out;
    });
  }

  /**
   * Put many objects straight into the store, as they would read after create and a status update
   * (uid, creationTimestamp, generation 1, the status given), skipping validation, defaulting,
   * admission and managedFields: for benches that need thousands of objects fast. Their kinds must
   * already be served and their namespaces exist (seed Namespaces and CRDs first with `seed`).
   */
  load(objects: Obj[]): void {
    const created = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    for (const o of objects) {
      const [group, version] = String(o.apiVersion).includes('/') ? String(o.apiVersion).split('/') : ['', String(o.apiVersion)];
      const def = this.registry.find(group!, version!, this.resource(group!, String(o.kind)).resource)!;
      const m = { ...((o.metadata ?? {}) as KObj['metadata']), uid: randomUUID(), creationTimestamp: created, ...(def.generation ? { generation: 1 } : {}) };
      if (def.namespaced) {
        m.namespace ??= 'default';
        if (!this.store.get(this.registry.find('', 'v1', 'namespaces')!, undefined, m.namespace)) throw new Error(`load: namespace ${m.namespace} of ${String(o.kind)} ${m.name} does not exist`);
      } else delete m.namespace;
      this.store.put(def, { ...o, metadata: m });
    }
  }

  /** `seed` from YAML text (one or more documents, `---` separated; empty documents skipped). */
  seedYaml(text: string): KObj[] {
    const docs = parseAllDocuments(text).map((d) => d.toJS() as unknown);
    return this.seed(docs.filter((d): d is Obj => isObj(d)));
  }

  // ------------------------------------------------------------------ request handling

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'https://x');
    const rec: RequestRecord = { method: req.method ?? 'GET', path: url.pathname, query: url.search.slice(1), target: req.url, contentType: req.headers['content-type'], userAgent: req.headers['user-agent'], code: 0, startMs: performance.now() };
    this.requestCount++;
    this.requests.push(rec);
    if (this.requests.length > this.requestHistory) this.requests.splice(0, this.requests.length - this.requestHistory);
    try {
      let body = await readBody(req);
      // kubectl's typed clients send protobuf; decode the kinds they send into JSON.
      if (String(req.headers['content-type'] ?? '').startsWith('application/vnd.kubernetes.protobuf') && body.length) {
        body = Buffer.from(JSON.stringify(decodeProtobuf(body)));
        rec.contentType = 'application/json (from protobuf)';
      }
      const text = body.toString('utf8');
      if (this.latencyMs > 0) await sleep(this.latencyMs);
      await this.route(req, res, url, text, rec);
    } catch (err) {
      const e = err instanceof E.ApiError ? err : E.withCode(500, `Internal error occurred: ${(err as Error).message}`);
      const retry = e.status.details?.retryAfterSeconds;
      if (!res.headersSent && retry !== undefined) res.setHeader('Retry-After', String(retry));
      if (!res.headersSent) send(res, e.code, e.status);
      else res.end();
    }
    rec.code = res.statusCode;
    rec.endMs = performance.now();
  }

  private authenticate(req: IncomingMessage): UserInfo {
    const h = req.headers.authorization;
    const m = h ? /^Bearer\s+(.+)$/i.exec(h) : null;
    const u = this.auth.authenticate(m?.[1]?.trim());
    if (!u) throw E.unauthorized();
    return u;
  }

  // Impersonate-User / Impersonate-Group (kubectl --as / --as-group), allowed by the
  // "impersonate" verb on users, groups or serviceaccounts, as the real server does.
  private impersonate(req: IncomingMessage, user: UserInfo): UserInfo {
    const as = req.headers['impersonate-user'];
    const asGroups = ([] as string[]).concat(req.headers['impersonate-group'] ?? []);
    if (typeof as !== 'string' || !as) {
      if (asGroups.length) throw E.badRequest('requested [' + asGroups.map((g) => `{Group  ${g}}`).join(' ') + '] without impersonating a user');
      return user;
    }
    const sa = /^system:serviceaccount:([^:]+):([^:]+)$/.exec(as);
    const check = (resource: string, name: string, namespace?: string) => {
      if (!this.auth.authorize(user, { verb: 'impersonate', group: '', resource, name, namespace })) {
        throw E.forbidden(user.username, 'impersonate', { group: '', resource }, undefined, namespace, name);
      }
    };
    if (sa) check('serviceaccounts', sa[2]!, sa[1]);
    else check('users', as);
    for (const g of asGroups) check('groups', g);
    const groups = sa ? ['system:serviceaccounts', `system:serviceaccounts:${sa[1]}`, ...asGroups] : asGroups;
    return { username: as, groups: [...groups, 'system:authenticated'] };
  }

  private async applyFaults(a: Attributes & { path?: string }): Promise<void> {
    for (const f of [...this.faults]) {
      if (f.verb && f.verb !== a.verb) continue;
      if (f.path && !(a.path ?? '').startsWith(f.path)) continue;
      if (f.resource && f.resource !== a.resource && f.resource !== `${a.resource}/${a.subresource}`) continue;
      if (f.group !== undefined && f.group !== a.group) continue;
      if (f.namespace && f.namespace !== a.namespace) continue;
      if (f.name && f.name !== a.name) continue;
      if (f.times !== undefined) {
        if (f.times <= 0) continue;
        f.times--;
      }
      if (f.delayMs) await sleep(f.delayMs);
      if (f.code) {
        const e = E.withCode(f.code, f.message);
        if (f.retryAfterSeconds !== undefined) e.status.details = { ...e.status.details, retryAfterSeconds: f.retryAfterSeconds };
        throw e;
      }
    }
  }

  private async route(req: IncomingMessage, res: ServerResponse, url: URL, body: string, rec: RequestRecord): Promise<void> {
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const parts = path.split('/').filter((p) => p !== '').map(decodeURIComponent);
    if (['/healthz', '/livez', '/readyz'].includes(path)) {
      res.writeHead(200, { 'Content-Type': 'text/plain' }).end('ok');
      return;
    }
    const user = this.impersonate(req, this.authenticate(req));
    rec.user = user.username;
    const method = req.method ?? 'GET';

    // Resource requests: /api/v1/... and /apis/G/V/...
    const isCore = parts[0] === 'api' && parts.length >= 3;
    const isGroup = parts[0] === 'apis' && parts.length >= 4;
    if (isCore || isGroup) {
      const group = isCore ? '' : parts[1]!;
      const version = isCore ? parts[1]! : parts[2]!;
      const t = this.target(group, version, parts.slice(isCore ? 2 : 3));
      const watch = url.searchParams.get('watch');
      const isWatch = watch === '1' || watch === 'true';
      const verb = verbOf(method, t, isWatch);
      Object.assign(rec, { verb, resource: t.def.resource, namespace: t.namespace, name: t.name, subresource: t.subresource });
      const attrs: Attributes = { verb, group, resource: t.def.resource, subresource: t.subresource, namespace: t.namespace, name: t.subresource === 'proxy' ? proxyTarget(t.name!).pod : t.name };
      await this.applyFaults(attrs);
      if (!this.auth.authorize(user, attrs)) throw E.forbidden(user.username, verb, t.def, t.subresource, t.namespace, attrs.name);
      return this.serveResource(req, res, url, body, t, verb, user);
    }

    const verb = method === 'GET' ? 'get' : method.toLowerCase();
    await this.applyFaults({ verb, path });
    if (!this.auth.authorize(user, { verb, path })) throw E.forbiddenPath(user.username, verb, path);
    if (method !== 'GET') throw E.methodNotAllowed();
    let doc: Obj | undefined;
    if (path === '/version') doc = D.VERSION_INFO;
    else if (path === '/api') doc = D.apiVersions(`127.0.0.1:${this.port}`);
    else if (path === '/api/v1') doc = D.apiResourceList(this.registry, '', 'v1');
    else if (path === '/apis') doc = D.apiGroupList(this.registry);
    else if (parts[0] === 'apis' && parts.length === 2) doc = D.apiGroup(this.registry, parts[1]!);
    else if (parts[0] === 'apis' && parts.length === 3) doc = D.apiResourceList(this.registry, parts[1]!, parts[2]!);
    else if (path === '/openapi/v3') doc = D.openApiV3Index(this.registry);
    else if (parts[0] === 'openapi' && parts[1] === 'v3') {
      const rest = parts.slice(2);
      doc = rest[0] === 'api' ? D.openApiV3(this.registry, '', rest[1] ?? '') : rest[0] === 'apis' ? D.openApiV3(this.registry, rest[1] ?? '', rest[2] ?? '') : undefined;
    }
    if (!doc) throw E.pathNotFound();
    send(res, 200, doc);
  }

  // Path segments after the group/version -> resource, namespace, name, subresource (as k8s RequestInfo does).
  private target(group: string, version: string, rest: string[]): Target {
    let ns: string | undefined;
    let segs = rest;
    if (segs[0] === 'namespaces' && segs.length > 2 && !(segs.length === 3 && (segs[2] === 'status' || segs[2] === 'finalize'))) {
      ns = segs[1];
      segs = segs.slice(2);
    }
    const def = this.registry.find(group, version, segs[0] ?? '');
    if (!def) throw E.pathNotFound();
    if (def.namespaced !== (ns !== undefined) && !(def.namespaced && ns === undefined && segs.length === 1)) throw E.pathNotFound();
    const t: Target = { def, version, namespace: ns, name: segs[1], subresource: segs[2], subpath: segs.length > 3 ? segs.slice(3).join('/') : undefined };
    if (t.subresource && !(def.subresources ?? []).includes(t.subresource)) throw E.pathNotFound();
    if (t.subresource !== 'proxy' && t.subpath !== undefined) throw E.pathNotFound();
    return t;
  }

  private async serveResource(req: IncomingMessage, res: ServerResponse, url: URL, body: string, t: Target, verb: string, user: UserInfo): Promise<void> {
    const q = url.searchParams;
    const { def, version, namespace: ns, name, subresource } = t;
    if (!verbsOf(def).includes(verb) && subresource === undefined) throw E.methodNotAllowed();
    if ((verb === 'update' || verb === 'patch') && !name) throw E.methodNotAllowed();
    // A namespaced resource without a namespace is only a collection to read across namespaces.
    if (def.namespaced && ns === undefined && verb !== 'list' && verb !== 'watch') throw E.pathNotFound();
    const manager = q.get('fieldManager') ?? (req.headers['user-agent'] ?? 'unknown').split('/')[0]!.slice(0, 128);
    const opts: WriteOptions = { manager, dryRun: q.getAll('dryRun').includes('All'), force: q.get('force') === 'true' };
    const accept = String(req.headers.accept ?? '');
    const table = /as=Table/.test(accept);
    // Metadata-only clients (controller-runtime, kubectl's garbage-collection helpers).
    const metaOnly = !table && /as=PartialObjectMetadata/.test(accept);

    if (SELF_REVIEWS.has(def.resource)) {
      if (verb !== 'create') throw E.methodNotAllowed();
      return send(res, 201, this.review(def, parseJson(body), user));
    }
    if (subresource === 'proxy') return this.proxy(req, res, t, url, body);
    if (subresource === 'scale') return this.scale(res, t, verb, req, body, opts);
    if (subresource === 'token') return this.tokenRequest(res, t, verb, body);
    if (subresource === 'log') return this.podLog(res, t, q);

    switch (verb) {
      case 'get': {
        const o = this.api.present(def, this.api.get(def, ns, name!), version);
        return send(res, 200, table ? toTable(def, [o], String(o.metadata.resourceVersion)) : metaOnly ? partial(o) : o);
      }
      case 'list': {
        const list = this.api.list(def, ns, { labelSelector: q.get('labelSelector'), fieldSelector: q.get('fieldSelector'), limit: Number(q.get('limit') ?? 0), continue: q.get('continue') }, version);
        if (metaOnly) return send(res, 200, { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', metadata: list.metadata, items: (list.items as KObj[]).map(partial) });
        if (!table) return send(res, 200, list);
        const t2 = toTable(def, (list.items as KObj[]).map((i) => ({ ...i, metadata: i.metadata })), String((list.metadata as Obj).resourceVersion));
        return send(res, 200, { ...t2, metadata: list.metadata });
      }
      case 'watch':
        return this.watch(req, res, t, q, table, metaOnly);
      case 'create':
        if (name) throw E.methodNotAllowed();
        return send(res, 201, await this.admitted(def, version, undefined, undefined, user, opts, (o) => this.api.create(def, ns, parseJson(body), o, version)));
      case 'update':
        return send(res, 200, await this.admitted(def, version, name, subresource, user, opts, (o) => this.api.update(def, ns, name!, parseJson(body), o, subresource, version)));
      case 'patch': {
        const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim();
        if (!(PATCH_TYPES as readonly string[]).includes(type)) throw E.unsupportedMediaType(type);
        const parsed = type === 'application/apply-patch+yaml' ? parseYamlBody(body) : parseJson(body);
        const existed = this.store.get(def, ns, name!) !== undefined;
        return send(res, existed ? 200 : 201, await this.admitted(def, version, name, subresource, user, opts, (o) => this.api.patch(def, ns, name!, type, parsed, o, subresource, version)));
      }
      case 'delete': {
        const b = body.trim() ? (parseJson(body) as Obj) : {};
        if (q.get('propagationPolicy')) b.propagationPolicy = q.get('propagationPolicy');
        const out = this.api.delete(def, ns, name!, b, opts);
        return send(res, 200, out);
      }
      case 'deletecollection': {
        const b = body.trim() ? (parseJson(body) as Obj) : {};
        if (q.get('propagationPolicy')) b.propagationPolicy = q.get('propagationPolicy');
        return send(res, 200, this.api.deleteCollection(def, ns, { labelSelector: q.get('labelSelector'), fieldSelector: q.get('fieldSelector') }, b, opts));
      }
    }
    throw E.methodNotAllowed();
  }

  private watch(req: IncomingMessage, res: ServerResponse, t: Target, q: URLSearchParams, table: boolean, metaOnly = false): void {
    const { def, version, namespace: ns } = t;
    const lsel = labelSelector(q.get('labelSelector'));
    const fsel = fieldSelector(q.get('fieldSelector'));
    const matches = (o: KObj | undefined): boolean => !!o && (ns === undefined || o.metadata.namespace === ns) && lsel(o) && fsel(o);
    const rvParam = q.get('resourceVersion');
    const from = rvParam && rvParam !== '0' ? Number(rvParam) : undefined;
    if (from !== undefined && Number.isNaN(from)) throw E.badRequest(`invalid resource version: ${rvParam}`);
    let headers = true;
    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    res.flushHeaders();
    const write = (type: string, o: Obj) => {
      // A dropped or timed-out watch may still see events until its 'close'.
      if (res.writableEnded || res.destroyed) return;
      let obj = o;
      if (table && type !== 'ERROR' && type !== 'BOOKMARK') {
        obj = toTable(def, [o as KObj], String((o as KObj).metadata.resourceVersion), headers);
        headers = false;
      } else if (metaOnly && type !== 'ERROR' && type !== 'BOOKMARK') obj = partial(o as KObj);
      res.write(`${JSON.stringify({ type, object: obj })}\n`);
    };
    const key = resKey(def);
    const onEvent = (e: StoreEvent) => {
      if (e.res !== key) return;
      const now = matches(e.object);
      const before = e.type !== 'ADDED' && matches(e.old);
      const obj = this.api.present(def, e.object, version);
      if (e.type === 'DELETED') {
        if (before) write('DELETED', obj);
      } else if (now && before) write('MODIFIED', obj);
      else if (now) write('ADDED', obj);
      else if (before) write('DELETED', obj);
    };
    const bookmark = (annotations?: Record<string, string>) =>
      !res.writableEnded && !res.destroyed && res.write(`${JSON.stringify({ type: 'BOOKMARK', object: { kind: def.kind, apiVersion: apiVersionOf(def.group, version), metadata: { resourceVersion: String(this.store.resourceVersion), ...(annotations ? { annotations } : {}) } } })}\n`);
    if (from === undefined || q.get('sendInitialEvents') === 'true') {
      for (const o of this.store.list(def, ns)) if (matches(o)) write('ADDED', this.api.present(def, o, version));
      // Streaming lists (WatchList) end their initial events with this bookmark.
      if (q.get('sendInitialEvents') === 'true') bookmark({ 'k8s.io/initial-events-end': 'true' });
    } else if (from < this.store.oldestResumable) {
      write('ERROR', E.gone(`too old resource version: ${from} (${this.store.oldestResumable})`).status as unknown as Obj);
      res.end();
      return;
    } else {
      for (const e of this.store.since(from)) onEvent(e);
    }
    const unsubscribe = this.store.subscribe(onEvent);
    this.watches.add(res);
    for (const w of [...this.waiters]) w();
    const timers: NodeJS.Timeout[] = [];
    if (q.get('allowWatchBookmarks') === 'true') {
      timers.push(setInterval(() => bookmark(), this.bookmarkIntervalMs));
    }
    const timeout = Number(q.get('timeoutSeconds') ?? 0);
    if (timeout > 0) timers.push(setTimeout(() => res.end(), timeout * 1000));
    const done = () => {
      unsubscribe();
      for (const tm of timers) clearTimeout(tm);
      this.watches.delete(res);
    };
    res.on('close', done);
    req.on('close', done);
  }

  private review(def: ResourceDef, body: unknown, user: UserInfo): Obj {
    const o = (isObj(body) ? body : {}) as Obj;
    const spec = (isObj(o.spec) ? o.spec : {}) as Obj;
    const out: Obj = { kind: def.kind, apiVersion: `${def.group}/v1`, metadata: { creationTimestamp: null }, spec };
    switch (def.resource) {
      case 'tokenreviews': {
        const r = this.auth.review(String(spec.token ?? ''), Array.isArray(spec.audiences) ? (spec.audiences as string[]) : undefined);
        out.status = 'error' in r ? { user: {}, error: r.error } : { authenticated: true, user: r.user, audiences: r.audiences };
        break;
      }
      case 'selfsubjectreviews':
        out.status = { userInfo: user };
        break;
      case 'selfsubjectaccessreviews':
      case 'subjectaccessreviews': {
        let who = user;
        if (def.resource === 'subjectaccessreviews') who = { username: String(spec.user ?? ''), groups: (spec.groups as string[]) ?? [] };
        const ra = (isObj(spec.resourceAttributes) ? spec.resourceAttributes : undefined) as Obj | undefined;
        const nra = (isObj(spec.nonResourceAttributes) ? spec.nonResourceAttributes : undefined) as Obj | undefined;
        const a: Attributes = ra
          ? { verb: String(ra.verb ?? ''), group: String(ra.group ?? ''), resource: String(ra.resource ?? ''), subresource: ra.subresource ? String(ra.subresource) : undefined, namespace: ra.namespace ? String(ra.namespace) : undefined, name: ra.name ? String(ra.name) : undefined }
          : { verb: String(nra?.verb ?? ''), path: String(nra?.path ?? '') };
        const allowed = this.auth.authorize(who, a);
        out.status = allowed ? { allowed: true, reason: 'allowed by the test API server rules' } : { allowed: false };
        break;
      }
      case 'selfsubjectrulesreviews': {
        const ns = String(spec.namespace ?? '');
        const rules = this.auth.rulesOf(user).filter((r) => !r.namespaces || r.namespaces.includes(ns));
        out.status = {
          resourceRules: rules.filter((r) => r.resources).map((r) => ({ verbs: r.verbs, apiGroups: r.apiGroups ?? [], resources: r.resources, ...(r.resourceNames ? { resourceNames: r.resourceNames } : {}) })),
          nonResourceRules: rules.filter((r) => r.nonResourceURLs).map((r) => ({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs })),
          incomplete: false,
        };
        break;
      }
    }
    return out;
  }

  private async proxy(req: IncomingMessage, res: ServerResponse, t: Target, url: URL, body: string): Promise<void> {
    if (t.def.resource !== 'pods') throw E.pathNotFound();
    const { pod, port } = proxyTarget(t.name!);
    const obj = this.api.get(t.def, t.namespace, pod);
    const handler = this.proxies.get(`${t.namespace}/${pod}`) ?? this.proxies.get(`${t.namespace}/*`) ?? this.proxies.get(`*/*`);
    const ip = (isObj(obj.status) && obj.status.podIP) || '<none>';
    if (!handler) throw E.withCode(503, `error trying to reach service: dial tcp ${String(ip)}:${port ?? 80}: connect: connection refused`);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && k !== 'authorization') headers[k] = v;
    const r = await handler({ method: req.method ?? 'GET', namespace: t.namespace!, pod, port, path: `/${t.subpath ?? ''}`, query: url.search.slice(1), body, headers });
    const answer = typeof r === 'string' ? { status: 200, body: r } : r;
    res.writeHead(answer.status ?? 200, { 'Content-Type': answer.contentType ?? 'text/plain; charset=utf-8' }).end(answer.body ?? '');
  }

  /**
   * Create a Pod (or anything) through admission, as a controller's request would go: the
   * kubelet helper uses this so injected sidecars appear on workload pods.
   */
  createAdmitted(def: ResourceDef, ns: string | undefined, obj: Obj, manager: string, user: UserInfo = { username: 'system:serviceaccount:kube-system:replicaset-controller', groups: ['system:serviceaccounts', 'system:authenticated'] }): Promise<KObj> {
    return this.admitted(def, def.versions[0]!, undefined, undefined, user, { manager }, (o) => this.api.create(def, ns, obj, o));
  }

  // Run a write through admission webhooks when any match: a dry run computes the object the
  // webhooks see, their answer is then stored (with the preconditions of the original request).
  private async admitted(def: ResourceDef, version: string, name: string | undefined, subresource: string | undefined, user: UserInfo, opts: WriteOptions, op: (o: WriteOptions) => KObj): Promise<KObj> {
    const preview = op({ ...opts, dryRun: true });
    const current = name ? this.store.get(def, preview.metadata.namespace, name) : undefined;
    const attrs = { def, version, operation: current ? ('UPDATE' as const) : ('CREATE' as const), subresource, object: preview, oldObject: current && this.api.present(def, current, version), user, dryRun: !!opts.dryRun };
    if (!hasWebhooks(this.store, attrs)) return op(opts);
    const out = await admit(this.store, this.webhookServices, attrs);
    if (opts.dryRun) return out;
    if (!current) return this.api.create(def, preview.metadata.namespace, out, opts, version);
    const latest = this.store.get(def, preview.metadata.namespace, name!);
    if (!latest || latest.metadata.resourceVersion !== current.metadata.resourceVersion) throw E.conflict(def, name!);
    return this.api.update(def, preview.metadata.namespace, name!, { ...out, metadata: { ...out.metadata, resourceVersion: current.metadata.resourceVersion } }, opts, subresource, version);
  }

  // pods/log: the text a test registered; the container must be named when the pod has several.
  private podLog(res: ServerResponse, t: Target, q: URLSearchParams): void {
    const pod = this.api.get(t.def, t.namespace, t.name!);
    const names = (((pod.spec as Obj | undefined)?.containers as Obj[] | undefined) ?? []).map((c) => String(c.name));
    const container = q.get('container') ?? (names.length === 1 ? names[0] : undefined);
    if (!container) throw E.badRequest(`a container name must be specified for pod ${t.name}, choose one of: [${names.join(' ')}]`);
    if (!names.includes(container)) throw E.badRequest(`container ${container} is not valid for pod ${t.name}`);
    let text = this.logs.get(`${t.namespace}/${t.name}/${container}`) ?? '';
    const tail = Number(q.get('tailLines') ?? -1);
    if (tail >= 0) text = text.split('\n').filter((l, i, a) => !(i === a.length - 1 && l === '')).slice(-tail).map((l) => `${l}\n`).join('');
    res.writeHead(200, { 'Content-Type': 'text/plain' }).end(text);
  }

  // TokenRequest: a token for the ServiceAccount, registered so TokenReview knows it.
  private tokenRequest(res: ServerResponse, t: Target, verb: string, body: string): void {
    if (verb !== 'create') throw E.methodNotAllowed();
    const sa = this.api.get(t.def, t.namespace, t.name!);
    const req = parseJson(body) as Obj;
    const spec = (isObj(req.spec) ? req.spec : {}) as Obj;
    const audiences = Array.isArray(spec.audiences) && spec.audiences.length ? (spec.audiences as string[]) : [DEFAULT_AUDIENCE];
    const seconds = typeof spec.expirationSeconds === 'number' ? spec.expirationSeconds : 3600;
    // A token bound to a pod records the pod's UID (TokenReview reports both in user.extra), as the real API server does.
    let bound: { name: string; uid: string } | undefined;
    if (isObj(spec.boundObjectRef) && spec.boundObjectRef.kind === 'Pod') {
      const ref = spec.boundObjectRef;
      const podDef = this.registry.find('', 'v1', 'pods')!;
      const pod = this.store.get(podDef, t.namespace, String(ref.name));
      if (!pod) throw E.badRequest(`cannot bind token for serviceaccount "${t.name}" to pod "${String(ref.name)}": pods "${String(ref.name)}" not found`);
      if (ref.uid !== undefined && ref.uid !== pod.metadata.uid) throw E.badRequest(`the UID in the bound object reference (${String(ref.uid)}) does not match the UID in record. The object might have been deleted and then recreated`);
      bound = { name: pod.metadata.name, uid: String(pod.metadata.uid) };
    }
    const token = this.auth.addServiceAccountToken(t.namespace!, t.name!, { audiences, podName: bound?.name, podUid: bound?.uid, uid: String(sa.metadata.uid) });
    const expiry = new Date(Date.now() + seconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
    send(res, 201, { kind: 'TokenRequest', apiVersion: 'authentication.k8s.io/v1', metadata: { name: t.name, namespace: t.namespace, creationTimestamp: null }, spec: { ...spec, audiences, expirationSeconds: seconds }, status: { token, expirationTimestamp: expiry } });
  }

  // autoscaling/v1 Scale for workloads (kubectl scale).
  private scale(res: ServerResponse, t: Target, verb: string, req: IncomingMessage, body: string, opts: WriteOptions): void {
    const { def, namespace: ns, name } = t;
    const toScale = (o: KObj): Obj => {
      const spec = (o.spec ?? {}) as Obj;
      const sel = isObj(spec.selector) && isObj(spec.selector.matchLabels) ? Object.entries(spec.selector.matchLabels).map(([k, v]) => `${k}=${String(v)}`).join(',') : '';
      return {
        kind: 'Scale', apiVersion: 'autoscaling/v1',
        metadata: { name: o.metadata.name, namespace: o.metadata.namespace, uid: o.metadata.uid, resourceVersion: o.metadata.resourceVersion, creationTimestamp: o.metadata.creationTimestamp },
        spec: { replicas: spec.replicas ?? 0 }, status: { replicas: isObj(o.status) ? (o.status.replicas ?? 0) : 0, selector: sel },
      };
    };
    const cur = this.api.get(def, ns, name!);
    if (verb === 'get') return send(res, 200, toScale(cur));
    let replicas: unknown;
    const b = parseJson(body) as Obj;
    if (verb === 'update') replicas = isObj(b.spec) ? b.spec.replicas : undefined;
    else if (verb === 'patch') {
      const type = String(req.headers['content-type'] ?? '').split(';')[0];
      if (type === 'application/json-patch+json') replicas = (b as unknown as { path: string; value: unknown }[]).find((op) => op.path === '/spec/replicas')?.value;
      else replicas = isObj(b.spec) ? b.spec.replicas : undefined;
    } else throw E.methodNotAllowed();
    if (typeof replicas !== 'number') throw E.badRequest('spec.replicas must be a number');
    const updated = this.api.update(def, ns, name!, { ...cur, spec: { ...(cur.spec as Obj), replicas } }, opts);
    send(res, 200, toScale(updated));
  }
}

// "name", "name:port" or "scheme:name:port", as the proxy subresource spells its target.
function proxyTarget(name: string): { pod: string; port?: string } {
  const parts = name.split(':');
  return parts.length === 3 ? { pod: parts[1]!, port: parts[2] } : { pod: parts[0]!, port: parts[1] };
}

function verbOf(method: string, t: Target, watch: boolean): string {
  switch (method) {
    case 'GET':
      return t.name ? 'get' : watch ? 'watch' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return t.name ? 'delete' : 'deletecollection';
    default:
      throw E.methodNotAllowed();
  }
}

function partial(o: KObj): Obj {
  return { kind: 'PartialObjectMetadata', apiVersion: 'meta.k8s.io/v1', metadata: o.metadata };
}

function send(res: ServerResponse, code: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) }).end(text);
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseJson(body: string): unknown {
  try {
    return body.trim() ? JSON.parse(body) : {};
  } catch (err) {
    throw E.badRequest(`the body of the request could not be decoded as JSON: ${(err as Error).message}`);
  }
}

function parseYamlBody(body: string): unknown {
  try {
    return parseYaml(body);
  } catch (err) {
    throw E.badRequest(`error decoding YAML: ${(err as Error).message}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
