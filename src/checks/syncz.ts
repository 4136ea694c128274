import type { KubeObject } from '../cluster/types.js';
import { proxyGet } from '../metrics/scrape.js';
import { debugHeaders } from '../cluster/debug-token.js';
import { CONTROLLER_NAME, LABEL_NAME } from '../constants.js';
import { parseSyncz as readSynczDocument, SYNCZ_PATH } from '../xds/syncz.js';
import type { LiveContext } from './context.js';
import { podReady } from './k8s.js';
import { CheckSkipped } from './types.js';
import { clipText } from '../util/text.js';
import { isObject } from '../util/object.js';

/**
 * The control plane's /debug/syncz as `mesh check` reads it (through the API server's pod proxy,
 * so no port-forward is needed); the format is src/xds/syncz.ts, i.e.
 *
 *     { "generation": 3, "ready": true, "proxies": [ { "id": "...", "kind": "sidecar",
 *       "namespace": "shop", "pod": "web-1", "connected": true,
 *       "streams": [ { "types": { "<typeUrl>": { "sentVersion": "7", "ackedVersion": "7",
 *                                               "lastNack": { "message": "..." } } } } ] } ] }
 *
 * Read tolerantly. A proxy served SDS secrets carries `certificate: {serial, notBefore, notAfter,
 * renewAt, renewing}` (also under each stream's `identity`), and every stream an `identity`
 * `{authenticated, reason?, spiffeId?}`; the proxy certificate check uses them. Entries without
 * pod and namespace (e.g. proxyless clients) are skipped.
 */
export interface ProxySync {
  pod: string;
  namespace: string;
  connected: boolean;
  types: { type: string; sent?: string; acked?: string; nack?: string }[];
  /** The certificate the control plane serves this proxy over SDS (absent when none). */
  certificate?: { notAfter: string; notBefore?: string; serial?: string; spiffeId?: string; renewing?: boolean };
  /** Why the proxy gets no certificate (its newest stream's identity.reason), if it says. */
  identityReason?: string;
  /** The controller pod that reported it. */
  controller: string;
}

/** Port (name or number) of the controller's debug/metrics endpoint. */
export const SYNCZ_PORT = 15014;
export { SYNCZ_PATH };

function s(v: unknown): string | undefined {
  return typeof v === 'string' && v !== '' ? v : typeof v === 'number' ? String(v) : undefined;
}
function shortType(t: string): string {
  return t.slice(t.lastIndexOf('.') + 1);
}

/** Parse a syncz document into what the checks use; throws when it is not JSON of the expected shape. */
export function parseSyncz(text: string, controller: string): ProxySync[] {
  const doc = readSynczDocument(text);
  const out: ProxySync[] = [];
  // Read tolerantly: a controller of another version may leave fields out.
  for (const e of (doc.proxies as unknown[]).filter(isObject)) {
    const pod = s(e.pod);
    const namespace = s(e.namespace);
    if (!pod || !namespace) continue;
    const types: ProxySync['types'] = [];
    const streams = Array.isArray(e.streams) ? e.streams.filter(isObject) : [];
    for (const st of streams) {
      if (!isObject(st.types)) continue;
      for (const [url, t] of Object.entries(st.types)) {
        if (!isObject(t)) continue;
        const nack = isObject(t.lastNack) ? (s(t.lastNack.message) ?? 'rejected') : undefined;
        // A NACK older than the last ACK was fixed by a later push.
        const stillNacked = nack !== undefined && (s(t.ackedVersion) === undefined || s(t.ackedVersion) !== s(t.sentVersion));
        types.push({ type: shortType(url), sent: s(t.sentVersion), acked: s(t.ackedVersion), nack: stillNacked ? nack : undefined });
      }
    }
    const p: ProxySync = { pod, namespace, connected: e.connected !== false, types, controller };
    const newest = streams[streams.length - 1];
    const identity = isObject(e.identity) ? e.identity : isObject(newest?.identity) ? newest.identity : undefined;
    const cert = isObject(e.certificate) ? e.certificate : identity && isObject(identity.certificate) ? identity.certificate : undefined;
    const notAfter = cert ? s(cert.notAfter) : undefined;
    if (cert && notAfter) {
      p.certificate = { notAfter };
      const nb = s(cert.notBefore);
      if (nb) p.certificate.notBefore = nb;
      const serial = s(cert.serial);
      if (serial) p.certificate.serial = serial;
      const id = identity ? s(identity.spiffeId) : undefined;
      if (id) p.certificate.spiffeId = id;
      if (typeof cert.renewing === 'boolean') p.certificate.renewing = cert.renewing;
    }
    const reason = identity ? s(identity.reason) : undefined;
    if (reason) p.identityReason = reason;
    out.push(p);
  }
  return out;
}

const cache = new WeakMap<LiveContext, Promise<ProxySync[]>>();

/** Why syncz could not be read: the checks skip with this message (a check that does not catch it is skipped too). */
export class SynczUnavailable extends CheckSkipped {}

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
      const headers = await debugHeaders(ctx.cluster, ctx.namespace);
      await Promise.all(
        pods.map(async (pod: KubeObject) => {
          try {
            const res = await proxyGet(ctx.cluster, { namespace: ctx.namespace, pod: pod.metadata.name, port: SYNCZ_PORT }, SYNCZ_PATH, headers);
            if (res.status === 403) throw new Error(`forbidden: "get pods/proxy" in ${ctx.namespace} is not allowed`);
            if (res.status !== 200) throw new Error(`HTTP ${res.status}: ${clipText(res.body.trim().split('\n')[0] ?? '', 200)}`);
            all.push(...parseSyncz(res.body, pod.metadata.name));
          } catch (err) {
            errors.push(`${pod.metadata.name}: ${(err as Error).message}`);
          }
        }),
      );
      if (errors.length === pods.length) throw new SynczUnavailable(`cannot read ${SYNCZ_PATH} from the control plane (${errors.join('; ')})`);
      return all;
    })();
    cache.set(ctx, p);
  }
  return p;
}
