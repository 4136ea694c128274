import { mapSelects } from '../util/labels.js';

// Per-namespace views of the model's lists, built once per list and remembered while the list
// lives (a model's arrays are never changed after buildModel returns). Lookups that scanned every
// service, workload or policy for each of thousands of others made `mesh check -f` quadratic.

const cache = new WeakMap<readonly object[], ReadonlyMap<string, readonly object[]>>();

/** `items` by namespace, each group in the list's order. */
export function byNamespace<T extends { namespace: string }>(items: readonly T[]): ReadonlyMap<string, readonly T[]> {
  let m = cache.get(items) as ReadonlyMap<string, readonly T[]> | undefined;
  if (!m) {
    const groups = new Map<string, T[]>();
    for (const it of items) {
      const g = groups.get(it.namespace);
      if (g) g.push(it);
      else groups.set(it.namespace, [it]);
    }
    cache.set(items, (m = groups));
  }
  return m;
}

/** The items of one namespace (an empty list when it has none). */
export function inNamespace<T extends { namespace: string }>(items: readonly T[], namespace: string): readonly T[] {
  return byNamespace(items).get(namespace) ?? [];
}

const labelCache = new WeakMap<readonly object[], Map<string, readonly object[]>>();

/**
 * The items of `namespace` whose labels carry every entry of `selector` (all of the namespace for
 * an empty or missing selector), in the list's order: the candidates are those carrying the
 * selector's rarest entry, from an index of `namespace\0key=value` built once per list.
 */
export function selectedIn<T extends { namespace: string; labels: Readonly<Record<string, string>> }>(items: readonly T[], namespace: string, selector: Readonly<Record<string, string>> | undefined): readonly T[] {
  const entries = Object.entries(selector ?? {});
  if (!entries.length) return inNamespace(items, namespace);
  let m = labelCache.get(items) as Map<string, T[]> | undefined;
  if (!m) {
    m = new Map();
    for (const it of items) {
      for (const [k, v] of Object.entries(it.labels)) {
        const key = `${it.namespace}\0${k}=${v}`;
        const g = m.get(key);
        if (g) g.push(it);
        else m.set(key, [it]);
      }
    }
    labelCache.set(items, m);
  }
  let candidates: readonly T[] | undefined;
  for (const [k, v] of entries) {
    const list = m.get(`${namespace}\0${k}=${v}`);
    if (!list) return [];
    if (!candidates || list.length < candidates.length) candidates = list;
  }
  return candidates!.filter((it) => mapSelects(selector, it.labels));
}

const policyCache = new WeakMap<readonly object[], Map<string, { all: readonly object[]; byLabel: Map<string, object[]>; order: Map<object, number> }>>();

/**
 * The items of `namespace` whose selector the given labels satisfy (a missing or empty selector
 * selects everything), in the list's order: the reverse lookup of {@link selectedIn}, for
 * policies that select workloads. Indexed once per list by each selector's first entry.
 */
export function selecting<T extends { namespace: string; selector?: Readonly<Record<string, string>> }>(items: readonly T[], namespace: string, labels: Readonly<Record<string, string>>): T[] {
  let m = policyCache.get(items);
  if (!m) {
    m = new Map();
    items.forEach((it, i) => {
      let g = m!.get(it.namespace);
      if (!g) m!.set(it.namespace, (g = { all: [], byLabel: new Map(), order: new Map() }));
      g.order.set(it, i);
      const first = Object.entries(it.selector ?? {})[0];
      if (!first) (g.all as object[]).push(it);
      else {
        const key = `${first[0]}=${first[1]}`;
        const list = g.byLabel.get(key);
        if (list) list.push(it);
        else g.byLabel.set(key, [it]);
      }
    });
    policyCache.set(items, m);
  }
  const g = m.get(namespace);
  if (!g) return [];
  const out = [...(g.all as T[])];
  for (const [k, v] of Object.entries(labels)) for (const it of (g.byLabel.get(`${k}=${v}`) ?? []) as T[]) if (Object.entries(it.selector!).every(([sk, sv]) => labels[sk] === sv)) out.push(it);
  return out.sort((a, b) => g.order.get(a)! - g.order.get(b)!);
}
