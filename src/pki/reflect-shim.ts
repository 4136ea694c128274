/**
 * The smallest Reflect metadata API that tsyringe (a dependency of @peculiar/x509) checks for at
 * load time and uses: getMetadata, getOwnMetadata, defineMetadata. The project does not ship
 * `reflect-metadata`; if it is ever loaded first, this module leaves it alone.
 * Must be imported before @peculiar/x509 (src/pki/x509.ts does that; import x509 only from there).
 */

type MetaKey = unknown;
type Target = object;

const store = new WeakMap<Target, Map<string | symbol | undefined, Map<MetaKey, unknown>>>();

function bucket(target: Target, prop: string | symbol | undefined, create: boolean): Map<MetaKey, unknown> | undefined {
  let byProp = store.get(target);
  if (!byProp) {
    if (!create) return undefined;
    byProp = new Map();
    store.set(target, byProp);
  }
  let map = byProp.get(prop);
  if (!map && create) {
    map = new Map();
    byProp.set(prop, map);
  }
  return map;
}

function getOwnMetadata(key: MetaKey, target: Target, prop?: string | symbol): unknown {
  return bucket(target, prop, false)?.get(key);
}

function getMetadata(key: MetaKey, target: Target, prop?: string | symbol): unknown {
  // Like reflect-metadata: walk the prototype chain.
  for (let t: Target | null = target; t; t = Object.getPrototypeOf(t) as Target | null) {
    const m = bucket(t, prop, false);
    if (m?.has(key)) return m.get(key);
  }
  return undefined;
}

function defineMetadata(key: MetaKey, value: unknown, target: Target, prop?: string | symbol): void {
  bucket(target, prop, true)?.set(key, value);
}

const R = Reflect as unknown as Record<string, unknown>;
if (typeof R.getMetadata !== 'function') {
  R.getMetadata = getMetadata;
  R.getOwnMetadata = getOwnMetadata;
  R.defineMetadata = defineMetadata;
}
