import type { KubeObject } from '../cluster/types.js';
import { isObject } from '../util/object.js';
import type { LabelSelector } from '../util/labels.js';

/** Small pure helpers over Kubernetes objects shared by the live checks. */

/** Whether a pod's Ready condition is True. */
export function podReady(p: KubeObject): boolean {
  const st = isObject(p.status) ? p.status : {};
  const conds = Array.isArray(st.conditions) ? st.conditions.filter(isObject) : [];
  return conds.some((c) => c.type === 'Ready' && c.status === 'True');
}

/** Names of a pod's containers. */
export function containerNames(p: KubeObject): string[] {
  const spec = isObject(p.spec) ? p.spec : {};
  return (Array.isArray(spec.containers) ? spec.containers.filter(isObject) : []).map((c) => String(c.name ?? ''));
}

/** A condition's status from `status.conditions` (or undefined). */
export function conditionStatus(o: KubeObject, type: string): string | undefined {
  const st = isObject(o.status) ? o.status : {};
  const conds = Array.isArray(st.conditions) ? st.conditions.filter(isObject) : [];
  const c = conds.find((x) => x.type === type);
  return typeof c?.status === 'string' ? c.status : undefined;
}

const LABEL_KEY = '[A-Za-z0-9][-A-Za-z0-9_./]*';
/** One equality-based selector term: `!key`, or `key` with an optional `=`/`==`/`!=` value. */
const SELECTOR_TERM = new RegExp(`^(?:(!)\\s*(${LABEL_KEY})|(${LABEL_KEY})\\s*(?:(==?|!=)\\s*([-A-Za-z0-9_.]*))?)$`);

/**
 * A label selector string in its equality-based forms (`k`, `!k`, `k=v`, `k==v`, `k!=v`, joined
 * by commas) as a {@link LabelSelector} that labelSelectorMatches (src/util/labels.ts) evaluates the way the API
 * server does; undefined for any other form (set-based `in`/`notin`), which callers leave to the server.
 */
export function parseLabelSelector(text: string): LabelSelector | undefined {
  const sel: Required<LabelSelector> = { matchLabels: {}, matchExpressions: [] };
  for (const raw of text.split(',')) {
    const term = raw.trim();
    if (term === '') continue;
    const m = SELECTOR_TERM.exec(term);
    if (!m) return undefined;
    if (m[1]) sel.matchExpressions.push({ key: m[2]!, operator: 'DoesNotExist' });
    else if (m[4] === undefined) sel.matchExpressions.push({ key: m[3]!, operator: 'Exists' });
    else sel.matchExpressions.push({ key: m[3]!, operator: m[4] === '!=' ? 'NotIn' : 'In', values: [m[5]!] });
  }
  return sel;
}

/** Labels of a namespace, including the automatic kubernetes.io/metadata.name. */
export function namespaceLabels(ns: KubeObject): Record<string, string> {
  return { 'kubernetes.io/metadata.name': ns.metadata.name, ...(ns.metadata.labels ?? {}) };
}

/** Base64 data value of a Secret, decoded; or the plain value of a ConfigMap. */
export function secretValue(o: KubeObject | undefined, key: string): string | undefined {
  const data = isObject(o?.data) ? o.data : {};
  const v = data[key];
  if (typeof v !== 'string' || v === '') return undefined;
  return o?.kind === 'Secret' ? Buffer.from(v, 'base64').toString('utf8') : v;
}

/** Ready endpoint addresses of a Service, from its EndpointSlices. */
export function readyAddresses(slices: KubeObject[]): string[] {
  const out: string[] = [];
  for (const s of slices) {
    const eps = Array.isArray(s.endpoints) ? (s.endpoints as unknown[]).filter(isObject) : [];
    for (const e of eps) {
      const cond = isObject(e.conditions) ? e.conditions : {};
      if (cond.ready === false) continue;
      if (Array.isArray(e.addresses)) for (const a of e.addresses) if (typeof a === 'string') out.push(a);
    }
  }
  return out;
}

/** `ns/name` of an object. */
export function nsName(o: KubeObject): string {
  return o.metadata.namespace ? `${o.metadata.namespace}/${o.metadata.name}` : o.metadata.name;
}

/** A list shortened for one message line: "a, b, c and 4 more". */
export function few(items: string[], n = 3): string {
  return items.length <= n ? items.join(', ') : `${items.slice(0, n).join(', ')} and ${items.length - n} more`;
}
