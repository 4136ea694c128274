import type { KubeObject } from '../../cluster/types.js';
import { CONTROLLER_NAME, LABEL_NAME } from '../../constants.js';
import type { LiveContext } from './context.js';
import { podReady } from './k8s.js';

/**
 * The control plane's /debug/syncz as `mesh check` reads it (through the API server's pod proxy,
 * so no port-forward is needed). The expected shape, read tolerantly:
 *
 *     { "proxies": [ { "pod": "web-1", "namespace": "shop", "connected": true,
 *                      "types": { "CDS": { "sent": "7", "acked": "7", "nack": null }, ... },
 *                      "certificate": { "notAfter": "2026-11-22T05:00:00Z" } } ] }
 *
 * `types` may also be an array of `{ type, sent, acked, nack }`; `podName`, `versionSent`,
 * `versionAcked`, `lastNack`, `certNotAfter` are accepted as aliases.
 */
export interface ProxySync {
  pod: string;
  namespace: string;
  connected: boolean;
  types: { type: string; sent?: string; acked?: string; nack?: string }[];
  certNotAfter?: string;
  /** The controller pod that reported it. */
  controller: string;
}

/** Port (name or number) of the controller's debug/metrics endpoint. */
export const SYNCZ_PORT = 15014;
export const SYNCZ_PATH = 'debug/syncz';

type Obj = Record<string, unknown>;
function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
function s(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}

/** Parse a syncz document; throws when it is not JSON of the expected shape. */
export function parseSyncz(text: string, controller: string): ProxySync[] {
  const doc: unknown = JSON.parse(text);
  const list = Array.isArray(doc) ? doc : isObj(doc) && Array.isArray(doc.proxies) ? doc.proxies : undefined;
  if (!list) throw new Error('not a syncz document (expected {"proxies": [...]})');
  const out: ProxySync[] = [];
  for (const e of list.filter(isObj)) {
    const pod = s(e.pod) ?? s(e.podName);
    const namespace = s(e.namespace);
    if (!pod || !namespace) continue;
    const rawTypes = e.types ?? e.xds;
    const types: ProxySync['types'] = [];
    const one = (type: string, t: Obj): void => {
      const nack = t.nack ?? t.lastNack ?? t.error;
      types.push({ type, sent: s(t.sent) ?? s(t.versionSent), acked: s(t.acked) ?? s(t.versionAcked), nack: nack === null || nack === undefined ? undefined : isObj(nack) ? (s(nack.message) ?? JSON.stringify(nack)) : String(nack) });
    };
    if (Array.isArray(rawTypes)) for (const t of rawTypes.filter(isObj)) one(s(t.type) ?? s(t.typeUrl) ?? '?', t);
    else if (isObj(rawTypes)) for (const [k, t] of Object.entries(rawTypes)) if (isObj(t)) one(k, t);
    const cert = isObj(e.certificate) ? s(e.certificate.notAfter) : s(e.certNotAfter);
    const p: ProxySync = { pod, namespace, connected: e.connected !== false, types, controller };
    if (cert) p.certNotAfter = cert;
    out.push(p);
  }
  return out;
}

const cache = new WeakMap<LiveContext, Promise<ProxySync[]>>();

/** Why syncz could not be read: the checks skip with this message. */
export class SynczUnavailable extends Error {}

/**
 * Read syncz from every ready controller pod and merge. Rejects with SynczUnavailable when no
 * controller pod is ready or none answered. Memoised per run.
 */
export function readSyncz(ctx: LiveContext): Promise<ProxySync[]> {
  let p = cache.get(ctx);
  if (!p) {
    p = (async () => {
      const pods = (await ctx.list('v1', 'Pod', { namespace: ctx.namespace, labelSelector: `${LABEL_NAME}=${CONTROLLER_NAME}` })).filter(podReady);
      if (pods.length === 0) throw new SynczUnavailable(`no ready ${CONTROLLER_NAME} pod in ${ctx.namespace} to ask`);
      const errors: string[] = [];
      const all: ProxySync[] = [];
      await Promise.all(
        pods.map(async (pod: KubeObject) => {
          try {
            const text = await ctx.cluster.proxyGet({ kind: 'pod', namespace: ctx.namespace, name: pod.metadata.name, port: SYNCZ_PORT, path: SYNCZ_PATH });
            all.push(...parseSyncz(text, pod.metadata.name));
          } catch (err) {
            errors.push(`${pod.metadata.name}: ${(err as Error).message}`);
          }
        }),
      );
      if (errors.length === pods.length) throw new SynczUnavailable(`cannot read /${SYNCZ_PATH} from the control plane (${errors.join('; ')})`);
      return all;
    })();
    cache.set(ctx, p);
  }
  return p;
}
