// Admission webhooks: Mutating- and ValidatingWebhookConfigurations stored in the server are
// called for CREATE and UPDATE like the real API server does (rules, namespaceSelector,
// objectSelector, failurePolicy, timeoutSeconds, JSON patch responses). Webhooks are reached
// only on loopback: a clientConfig.url on 127.0.0.1/localhost, or a clientConfig.service mapped
// to one by the test (`server.webhookServices`).
import { randomUUID } from 'node:crypto';
import { request } from 'node:https';
import type { UserInfo } from './auth.ts';
import { ApiError, withCode } from './errors.ts';
import { isObj, jsonPatch } from './patch.ts';
import type { ResourceDef } from './resources.ts';
import { selectorMatches } from './selectors.ts';
import type { KObj, Store } from './store.ts';

type Obj = Record<string, unknown>;

/** Where a webhook Service (namespace/name:port) is really listening, e.g. "https://127.0.0.1:9443". */
export type WebhookServices = Map<string, string>;

interface Webhook {
  name: string;
  clientConfig?: { url?: string; caBundle?: string; service?: { namespace: string; name: string; path?: string; port?: number } };
  rules?: { operations?: string[]; apiGroups?: string[]; apiVersions?: string[]; resources?: string[]; scope?: string }[];
  failurePolicy?: string;
  namespaceSelector?: Parameters<typeof selectorMatches>[0];
  objectSelector?: Parameters<typeof selectorMatches>[0];
  timeoutSeconds?: number;
}

/** One admission decision to make. */
export interface AdmissionAttributes {
  def: ResourceDef;
  version: string;
  operation: 'CREATE' | 'UPDATE';
  subresource?: string;
  object: KObj;
  oldObject?: KObj;
  user: UserInfo;
  dryRun: boolean;
}

const matchList = (list: string[] | undefined, v: string) => !list || list.includes('*') || list.includes(v);

function matches(store: Store, w: Webhook, a: AdmissionAttributes): boolean {
  const res = a.subresource ? `${a.def.resource}/${a.subresource}` : a.def.resource;
  const ruleOk = (w.rules ?? []).some(
    (r) =>
      matchList(r.operations, a.operation) &&
      matchList(r.apiGroups, a.def.group) &&
      matchList(r.apiVersions, a.version) &&
      (r.resources ?? []).some((x) => x === '*' || x === res || (x === '*/*') || (x.endsWith('/*') && a.subresource && x === `${a.def.resource}/*`) || (x.startsWith('*/') && a.subresource && x === `*/${a.subresource}`)) &&
      (!r.scope || r.scope === '*' || (r.scope === 'Namespaced') === a.def.namespaced),
  );
  if (!ruleOk) return false;
  const labels = (o?: KObj) => (o?.metadata.labels ?? {}) as Record<string, string>;
  if (w.objectSelector && Object.keys(w.objectSelector).length && !selectorMatches(w.objectSelector, labels(a.object)) && !(a.oldObject && selectorMatches(w.objectSelector, labels(a.oldObject)))) return false;
  if (w.namespaceSelector && Object.keys(w.namespaceSelector).length) {
    const nsLabels = a.def.resource === 'namespaces' ? labels(a.object) : labels(store.get({ group: '', resource: 'namespaces' }, undefined, String(a.object.metadata.namespace)));
    if (a.def.namespaced || a.def.resource === 'namespaces') if (!selectorMatches(w.namespaceSelector, nsLabels)) return false;
  }
  return true;
}

function webhooks(store: Store, kind: 'mutatingwebhookconfigurations' | 'validatingwebhookconfigurations', a: AdmissionAttributes): Webhook[] {
  return store
    .list({ group: 'admissionregistration.k8s.io', resource: kind })
    .flatMap((cfg) => ((cfg.webhooks as Webhook[] | undefined) ?? []))
    .filter((w) => matches(store, w, a));
}

/** True when some webhook would be called for this request (so the caller can skip the async path). */
export function hasWebhooks(store: Store, a: AdmissionAttributes): boolean {
  return webhooks(store, 'mutatingwebhookconfigurations', a).length > 0 || webhooks(store, 'validatingwebhookconfigurations', a).length > 0;
}

// The URL to call (or why there is none) and the URL as the real server would name it in errors.
function endpoint(w: Webhook, services: WebhookServices): { url?: string; shown: string; error?: string } {
  const cc = w.clientConfig ?? {};
  if (cc.url) {
    const u = new URL(cc.url);
    if (!['127.0.0.1', 'localhost', '[::1]'].includes(u.hostname)) return { shown: cc.url, error: `the test API server only calls webhooks on loopback, not ${u.hostname}` };
    return { url: cc.url, shown: cc.url };
  }
  const s = cc.service;
  if (!s) return { shown: 'webhook', error: 'webhook has neither url nor service' };
  const port = s.port ?? 443;
  const shown = `https://${s.name}.${s.namespace}.svc:${port}${s.path ?? ''}`;
  const base = services.get(`${s.namespace}/${s.name}:${port}`) ?? services.get(`${s.namespace}/${s.name}`);
  if (!base) return { shown, error: `dial tcp: lookup ${s.name}.${s.namespace}.svc: no such host (map it with server.webhookServices.set("${s.namespace}/${s.name}", "https://127.0.0.1:PORT"))` };
  return { url: `${base.replace(/\/$/, '')}${s.path ?? ''}`, shown };
}

function post(url: string, body: string, caPem: string | undefined, timeoutMs: number): Promise<Obj> {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    u.searchParams.set('timeout', `${Math.round(timeoutMs / 1000)}s`);
    const req = request(u, { method: 'POST', ca: caPem, headers: { 'Content-Type': 'application/json', Accept: 'application/json' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        if ((res.statusCode ?? 0) >= 300) return reject(new Error(`the server responded with status ${String(res.statusCode)}: ${text.slice(0, 200)}`));
        try {
          resolve(JSON.parse(text) as Obj);
        } catch {
          reject(new Error(`received invalid webhook response: ${text.slice(0, 200)}`));
        }
      });
    });
    req.on('timeout', () => req.destroy(new Error('context deadline exceeded')));
    req.on('error', reject);
    req.end(body);
  });
}

async function call(w: Webhook, a: AdmissionAttributes, object: KObj, services: WebhookServices): Promise<Obj | undefined> {
  const uid = randomUUID();
  const gvk = { group: a.def.group, version: a.version, kind: a.def.kind };
  const gvr = { group: a.def.group, version: a.version, resource: a.def.resource };
  const review = {
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: {
      uid, kind: gvk, resource: gvr, ...(a.subresource ? { subResource: a.subresource } : {}), requestKind: gvk, requestResource: gvr,
      name: object.metadata.name, ...(object.metadata.namespace ? { namespace: object.metadata.namespace } : {}),
      operation: a.operation, userInfo: a.user, object, oldObject: a.oldObject ?? null, dryRun: a.dryRun,
      options: { apiVersion: 'meta.k8s.io/v1', kind: a.operation === 'CREATE' ? 'CreateOptions' : 'UpdateOptions' },
    },
  };
  const ep = endpoint(w, services);
  try {
    if (!ep.url) throw new Error(ep.error);
    const ca = w.clientConfig?.caBundle ? Buffer.from(w.clientConfig.caBundle, 'base64').toString('utf8') : undefined;
    const out = await post(ep.url, JSON.stringify(review), ca, (w.timeoutSeconds ?? 10) * 1000);
    const resp = (isObj(out.response) ? out.response : undefined) as Obj | undefined;
    if (!resp || resp.uid !== uid) throw new Error(`expected response.uid="${uid}", got "${String(resp?.uid)}"`);
    return resp;
  } catch (err) {
    if (w.failurePolicy === 'Ignore') return undefined;
    throw withCode(500, `Internal error occurred: failed calling webhook "${w.name}": failed to call webhook: Post "${ep.shown}?timeout=${w.timeoutSeconds ?? 10}s": ${(err as Error).message}`);
  }
}

function denied(w: Webhook, resp: Obj): ApiError {
  const st = (isObj(resp.status) ? resp.status : {}) as Obj;
  const code = typeof st.code === 'number' ? st.code : 400;
  const e = withCode(code, `admission webhook "${w.name}" denied the request${st.message ? `: ${String(st.message)}` : ' without explanation'}`);
  if (typeof st.reason === 'string') e.status.reason = st.reason;
  return e;
}

/** Run the mutating then the validating webhooks; returns the (possibly patched) object or throws the denial. */
export async function admit(store: Store, services: WebhookServices, a: AdmissionAttributes): Promise<KObj> {
  let obj = a.object;
  for (const w of webhooks(store, 'mutatingwebhookconfigurations', a)) {
    const resp = await call(w, a, obj, services);
    if (!resp) continue;
    if (resp.allowed !== true) throw denied(w, resp);
    if (typeof resp.patch === 'string') {
      const ops = JSON.parse(Buffer.from(resp.patch, 'base64').toString('utf8')) as unknown;
      obj = jsonPatch(obj, ops) as KObj;
    }
  }
  for (const w of webhooks(store, 'validatingwebhookconfigurations', a)) {
    const resp = await call(w, { ...a, object: obj }, obj, services);
    if (resp && resp.allowed !== true) throw denied(w, resp);
  }
  return obj;
}
