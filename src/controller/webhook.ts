import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { KubeObject } from '../cluster/types.js';
import { webhookPatch } from '../manifests/inject.js';
import type { Values } from '../manifests/values.js';
import { MeshError } from '../errors.js';
import { isObject } from '../util/object.js';

/** What the webhook needs from the controller, asked per request so config changes apply at once. */
export interface WebhookContext {
  /** The mesh's resolved values (mesh-config ConfigMap, or --values / defaults). */
  values(): Promise<Values>;
  /** Whether to inject the proxy as a native sidecar, given the values. */
  nativeSidecar(values: Values): boolean;
  /** Labels of a namespace, or undefined when it is unknown. */
  namespaceLabels(namespace: string): Promise<Record<string, string> | undefined>;
  log?: (line: string) => void;
  /** Called once per POST /inject with its outcome and how long the answer took (metrics). */
  observe?: (outcome: WebhookOutcome, seconds: number) => void;
}

/**
 * What became of one admission request: `injected` (a patch), `skipped` (allowed unchanged: not a
 * pod CREATE, opted out...), `denied` (the pod is refused), `failed-open` (injection failed and
 * failurePolicy Ignore let the pod through without a sidecar) or `error` (no AdmissionReview answer:
 * HTTP 4xx/5xx). All but the first two carry a reason.
 */
export interface WebhookOutcome {
  kind: 'injected' | 'skipped' | 'denied' | 'failed-open' | 'error';
  reason?: 'no-config' | 'inject-failed' | 'bad-request' | 'too-large' | 'internal';
}

/** The body and HTTP status of an answer to one POST /inject. */
export interface AdmissionAnswer {
  status: number;
  body: unknown;
  outcome: WebhookOutcome;
}

const API_VERSION = 'admission.k8s.io/v1';

/** A request field for a message: String() throws on JSON such as {"toString": null}, JSON.stringify does not. */
function show(x: unknown): string {
  return typeof x === 'string' ? x : (JSON.stringify(x) ?? String(x)).slice(0, 100);
}

/**
 * Answer one AdmissionReview (admission.k8s.io/v1). A Pod CREATE gets the JSON patch of
 * webhookPatch (the very injection `mesh inject` does); anything else is allowed unchanged with a
 * warning. A body that is not an AdmissionReview with a request uid is a 400: there is no uid to
 * answer to. Never throws.
 */
export async function reviewAdmission(body: unknown, ctx: WebhookContext): Promise<AdmissionAnswer> {
  if (!isObject(body) || body.kind !== 'AdmissionReview' || !isObject(body.request) || typeof body.request.uid !== 'string') {
    return { status: 400, body: { error: 'expected an AdmissionReview (admission.k8s.io/v1) with request.uid' }, outcome: { kind: 'error', reason: 'bad-request' } };
  }
  const req = body.request;
  const uid = req.uid as string;
  const answer = (response: Record<string, unknown>, outcome: WebhookOutcome = { kind: 'skipped' }): AdmissionAnswer => ({ status: 200, body: { apiVersion: API_VERSION, kind: 'AdmissionReview', response: { uid, ...response } }, outcome });
  const pass = (warning: string): AdmissionAnswer => answer({ allowed: true, warnings: [warning] });
  if (body.apiVersion !== API_VERSION) return pass(`mesh: AdmissionReview ${show(body.apiVersion)} is not ${API_VERSION}; not injected`);
  const kind = isObject(req.kind) ? req.kind : {};
  if (kind.kind !== 'Pod' || (kind.group ?? '') !== '') return pass(`mesh: only pods are injected, not ${show(kind.kind ?? 'unknown kind')}`);
  if (req.operation !== 'CREATE') return pass(`mesh: pods are injected on CREATE only, not ${show(req.operation)}`);
  if (req.subResource) return pass(`mesh: subresource ${show(req.subResource)} is not injected`);
  const obj = req.object;
  if (!isObject(obj) || !isObject(obj.spec) || !Array.isArray(obj.spec.containers)) return pass('mesh: the request has no pod object with containers; not injected');
  // apiVersion and kind are filled in when missing: equal on both sides, they produce no patch op.
  const pod = { apiVersion: 'v1', kind: 'Pod', ...obj, metadata: isObject(obj.metadata) ? obj.metadata : {} } as unknown as KubeObject;
  const namespace = typeof req.namespace === 'string' ? req.namespace : typeof pod.metadata.namespace === 'string' ? pod.metadata.namespace : undefined;
  const who = `${namespace ?? '?'}/${show(pod.metadata.name ?? pod.metadata.generateName ?? '')}`;
  let values: Values;
  try {
    values = await ctx.values();
  } catch (err) {
    ctx.log?.(`webhook: cannot read the mesh values for pod ${who}: ${(err as Error).message}`);
    // No values, no injection: honour the mesh's own policy for a webhook that cannot work.
    return answer({ allowed: false, status: { code: 500, message: `mesh: cannot read the mesh configuration: ${(err as Error).message}` } }, { kind: 'denied', reason: 'no-config' });
  }
  try {
    const labels = namespace ? await ctx.namespaceLabels(namespace).catch(() => undefined) : undefined;
    const { patch: ops, report } = webhookPatch(pod, values, { nativeSidecar: ctx.nativeSidecar(values), ...(labels ? { namespaceLabels: labels } : {}) });
    // Ops under /metadata need the object the API server holds to have one.
    if (!isObject(obj.metadata) && ops.length) ops.unshift({ op: 'add', path: '/metadata', value: {} });
    ctx.log?.(`webhook: pod ${who}: ${report.action}${report.reason ? ` (${report.reason})` : ''}`);
    if (ops.length === 0) return answer({ allowed: true });
    return answer({ allowed: true, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(ops)).toString('base64') }, { kind: 'injected' });
  } catch (err) {
    const msg = err instanceof MeshError ? `${err.message}${err.hint ? ` (${err.hint})` : ''}` : (err as Error).message;
    ctx.log?.(`webhook: cannot inject pod ${who}: ${msg}`);
    if (values.webhook.failurePolicy === 'Ignore') return answer({ allowed: true, warnings: [`mesh: not injected: ${msg}`] }, { kind: 'failed-open', reason: 'inject-failed' });
    return answer({ allowed: false, status: { code: 400, message: `mesh: cannot inject: ${msg}` } }, { kind: 'denied', reason: 'inject-failed' });
  }
}

/** The largest AdmissionReview body the webhook reads (the API server sends far less: one pod). */
export const MAX_BODY = 8 * 1024 * 1024;

/**
 * The HTTP handler: POST /inject (AdmissionReview), GET /healthz. A body over `maxBody` (default
 * MAX_BODY) is answered 413 as soon as it crosses the limit and the connection is closed: the rest
 * is never read, so a client cannot make the webhook swallow a gigabyte before it says no.
 */
export function webhookHandler(ctx: WebhookContext, limits: { maxBody?: number } = {}): (req: IncomingMessage, res: ServerResponse) => void {
  const maxBody = limits.maxBody ?? MAX_BODY;
  return (req, res) => {
    const started = process.hrtime.bigint();
    const send = (status: number, body: unknown): void => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    /** Answer POST /inject, counting the outcome. */
    const done = (status: number, body: unknown, outcome: WebhookOutcome): void => {
      send(status, body);
      ctx.observe?.(outcome, Number(process.hrtime.bigint() - started) / 1e9);
    };
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && req.method === 'GET') return send(200, { status: 'ok' });
    if (path !== '/inject') return send(404, { error: 'not found: POST /inject' });
    if (req.method !== 'POST') return send(405, { error: 'POST an AdmissionReview to /inject' });
    const chunks: Buffer[] = [];
    let size = 0;
    const tooBig = (): void => {
      req.off('data', onData);
      req.pause();
      res.writeHead(413, { 'content-type': 'application/json', connection: 'close' });
      // Once the answer is out, drop the connection rather than drain the rest of the body.
      res.end(JSON.stringify({ error: `request body over ${maxBody} bytes` }), () => req.destroy());
      ctx.observe?.({ kind: 'error', reason: 'too-large' }, Number(process.hrtime.bigint() - started) / 1e9);
    };
    const declared = Number(req.headers['content-length']);
    function onData(c: Buffer): void {
      size += c.length;
      if (size > maxBody) tooBig();
      else chunks.push(c);
    }
    if (Number.isFinite(declared) && declared > maxBody) return tooBig();
    req.on('data', onData);
    req.on('error', () => res.destroy());
    req.on('end', () => {
      if (size > maxBody) return;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return done(400, { error: 'the body is not JSON: expected an AdmissionReview' }, { kind: 'error', reason: 'bad-request' });
      }
      // reviewAdmission never throws by contract; should it still, the API server gets an answer, not a hang.
      reviewAdmission(body, ctx).then(
        (a) => done(a.status, a.body, a.outcome),
        (err: unknown) => done(500, { error: `mesh: ${(err as Error).message}` }, { kind: 'error', reason: 'internal' }),
      );
    });
  };
}

/** A serving certificate that may be renewed (ServingCert has this shape). */
export interface RotatingCert {
  readonly current: { certPem: string; keyPem: string };
  /** Calls `listener` with each renewed certificate; returns the unsubscribe function. */
  onChange(listener: (cert: { certPem: string; keyPem: string }) => void): () => void;
}

/**
 * Start the HTTPS webhook server with a serving certificate chain (leaf first) and its key. Given a
 * RotatingCert, each renewal swaps the server's secure context: new handshakes get the new
 * certificate, open connections keep working, nothing restarts.
 */
export function startWebhook(tls: { certPem: string; keyPem: string } | RotatingCert, listen: { host?: string; port?: number }, ctx: WebhookContext): Promise<{ server: Server; port: number }> {
  const rotating = 'onChange' in tls ? tls : undefined;
  const first = rotating ? rotating.current : (tls as { certPem: string; keyPem: string });
  const server = createServer({ cert: first.certPem, key: first.keyPem }, webhookHandler(ctx));
  if (rotating) {
    const unsubscribe = rotating.onChange((c) => server.setSecureContext({ cert: c.certPem, key: c.keyPem }));
    server.once('close', unsubscribe);
  }
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(listen.port ?? 0, listen.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      const addr = server.address();
      resolve({ server, port: typeof addr === 'object' && addr ? addr.port : 0 });
    });
  });
}
