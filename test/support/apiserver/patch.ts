// The three classic patch formats: RFC 6902 JSON patch, RFC 7386 merge patch and Kubernetes'
// strategic merge patch (lists merged by their merge key, $patch / $setElementOrder / $retainKeys
// directives), with the merge keys of the built-in types kubectl and controllers rely on.
import { badRequest, ApiError } from './errors.ts';

type Json = unknown;
type Obj = Record<string, Json>;

export const isObj = (v: Json): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
export const clone = <T>(v: T): T => (v === undefined ? v : (JSON.parse(JSON.stringify(v)) as T));

/** Deep equality of JSON values. */
export function deepEqual(a: Json, b: Json): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((x, i) => deepEqual(x, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a);
    return ka.length === Object.keys(b).length && ka.every((k) => k in b && deepEqual(a[k], b[k]));
  }
  return false;
}

/**
 * The merge key of a list field, as the built-in types declare it (patchMergeKey /
 * listMapKeys), chosen by field name and confirmed by the items: container ports merge by
 * containerPort, Service ports by port, most other lists of objects by name. Undefined: atomic.
 */
export function mergeKeyFor(field: string, items: Json[]): string | undefined {
  const objs = items.filter(isObj);
  if (objs.length === 0 || objs.length !== items.length) return undefined;
  const has = (k: string) => objs.every((o) => o[k] !== undefined);
  const byField: Record<string, string[]> = {
    containers: ['name'], initContainers: ['name'], ephemeralContainers: ['name'], volumes: ['name'], env: ['name'],
    imagePullSecrets: ['name'], volumeMounts: ['mountPath'], volumeDevices: ['devicePath'], ports: ['containerPort', 'port'],
    conditions: ['type'], hostAliases: ['ip'], webhooks: ['name'], ownerReferences: ['uid'], versions: ['name'],
    topologySpreadConstraints: ['topologyKey'], resourceClaims: ['name'], containerStatuses: ['name'], addresses: ['ip'],
  };
  for (const k of byField[field] ?? []) if (has(k)) return k;
  return undefined;
}

// ---------------------------------------------------------------------------- JSON patch

function unescape(tok: string): string {
  return tok.replace(/~1/g, '/').replace(/~0/g, '~');
}

function parsePointer(p: string): string[] {
  if (p === '') return [];
  if (!p.startsWith('/')) throw badRequest(`the server rejected our request due to an error in our request: invalid JSON pointer ${p}`);
  return p.slice(1).split('/').map(unescape);
}

function parentOf(doc: Json, toks: string[]): { parent: Json; key: string } {
  let cur = doc;
  for (const t of toks.slice(0, -1)) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObj(cur)) cur = cur[t];
    else cur = undefined;
    if (cur === undefined) throw badRequest(`the server rejected our request due to an error in our request: doc is missing path: "/${toks.join('/')}"`);
  }
  return { parent: cur, key: toks[toks.length - 1]! };
}

function getAt(doc: Json, toks: string[]): Json {
  let cur = doc;
  for (const t of toks) {
    if (Array.isArray(cur)) cur = cur[Number(t)];
    else if (isObj(cur)) cur = cur[t];
    else return undefined;
  }
  return cur;
}

function missing(path: string): ApiError {
  return new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the server rejected our request due to an error in our request`, reason: 'Invalid', code: 422, details: { causes: [{ reason: 'FieldValueInvalid', message: `doc is missing path: "${path}"`, field: 'patch' }] } });
}

/** Apply an RFC 6902 JSON patch; returns a new document. */
export function jsonPatch(doc: Json, ops: Json): Json {
  if (!Array.isArray(ops)) throw badRequest('json patch must be an array of operations');
  let out = clone(doc);
  for (const raw of ops) {
    if (!isObj(raw)) throw badRequest('invalid json patch operation');
    const op = raw as { op: string; path: string; from?: string; value?: Json };
    const toks = parsePointer(op.path);
    const add = (value: Json) => {
      if (toks.length === 0) {
        out = clone(value);
        return;
      }
      const { parent, key } = parentOf(out, toks);
      if (Array.isArray(parent)) {
        const i = key === '-' ? parent.length : Number(key);
        if (!(i >= 0 && i <= parent.length)) throw missing(op.path);
        parent.splice(i, 0, clone(value));
      } else if (isObj(parent)) parent[key] = clone(value);
      else throw missing(op.path);
    };
    const remove = () => {
      const { parent, key } = parentOf(out, toks);
      if (Array.isArray(parent) && Number(key) < parent.length) parent.splice(Number(key), 1);
      else if (isObj(parent) && key in parent) delete parent[key];
      else throw missing(op.path);
    };
    switch (op.op) {
      case 'add':
        add(op.value);
        break;
      case 'remove':
        remove();
        break;
      case 'replace':
        remove();
        add(op.value);
        break;
      case 'move': {
        const v = getAt(out, parsePointer(op.from ?? ''));
        if (v === undefined) throw missing(op.from ?? '');
        const from = parsePointer(op.from ?? '');
        const { parent, key } = parentOf(out, from);
        if (Array.isArray(parent)) parent.splice(Number(key), 1);
        else if (isObj(parent)) delete parent[key];
        add(v);
        break;
      }
      case 'copy': {
        const v = getAt(out, parsePointer(op.from ?? ''));
        if (v === undefined) throw missing(op.from ?? '');
        add(v);
        break;
      }
      case 'test':
        if (!deepEqual(getAt(out, toks), op.value)) throw new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the server rejected our request due to an error in our request: testing value ${op.path} failed: test failed`, reason: 'Invalid', code: 422 });
        break;
      default:
        throw badRequest(`Unexpected kind: ${op.op}`);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------- merge patch

/** Apply an RFC 7386 JSON merge patch; returns a new document. */
export function mergePatch(doc: Json, patch: Json): Json {
  if (!isObj(patch)) return clone(patch);
  const out: Obj = isObj(doc) ? clone(doc) : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

// ---------------------------------------------------------------------------- strategic merge patch

/** Apply a strategic merge patch; returns a new document. */
export function strategicMergePatch(doc: Json, patch: Json): Json {
  if (!isObj(patch)) throw badRequest('strategic merge patch must be a JSON object');
  return smpMap(isObj(doc) ? clone(doc) : {}, patch);
}

function smpMap(doc: Obj, patch: Obj): Obj {
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return stripDirectives(rest) as Obj;
  }
  if (patch.$patch === 'delete') return {};
  let out = doc;
  const retain = patch.$retainKeys;
  for (const [k, v] of Object.entries(patch)) {
    if (k === '$patch' || k === '$retainKeys' || k.startsWith('$setElementOrder/')) continue;
    if (k.startsWith('$deleteFromPrimitiveList/')) {
      const f = k.slice('$deleteFromPrimitiveList/'.length);
      if (Array.isArray(out[f]) && Array.isArray(v)) out[f] = (out[f] as Json[]).filter((x) => !v.some((d) => deepEqual(d, x)));
      continue;
    }
    if (v === null) {
      delete out[k];
      continue;
    }
    const cur = out[k];
    if (Array.isArray(v)) out[k] = smpList(k, Array.isArray(cur) ? cur : [], v, patch[`$setElementOrder/${k}`]);
    else if (isObj(v)) {
      if (v.$patch === 'delete') delete out[k];
      else out[k] = smpMap(isObj(cur) ? cur : {}, v);
    } else out[k] = v;
  }
  if (Array.isArray(retain)) out = Object.fromEntries(Object.entries(out).filter(([k]) => retain.includes(k)));
  return out;
}

function smpList(field: string, cur: Json[], patch: Json[], order: Json): Json[] {
  if (patch.some((p) => isObj(p) && p.$patch === 'replace')) return stripDirectives(patch.filter((p) => !(isObj(p) && p.$patch === 'replace'))) as Json[];
  const key = mergeKeyFor(field, patch.filter((p) => !(isObj(p) && Object.keys(p).length === 1 && p.$patch)));
  const keyOf = key ?? (cur.length && mergeKeyFor(field, cur)) ?? undefined;
  if (!keyOf || !patch.every(isObj)) return stripDirectives(patch) as Json[];
  const out = cur.map((c) => clone(c));
  for (const p of patch as Obj[]) {
    const i = out.findIndex((c) => isObj(c) && c[keyOf] === p[keyOf]);
    if (p.$patch === 'delete') {
      if (i >= 0) out.splice(i, 1);
    } else if (i >= 0) out[i] = smpMap(out[i] as Obj, p);
    else out.push(stripDirectives(p));
  }
  if (Array.isArray(order)) {
    const rank = (o: Json) => order.findIndex((x) => isObj(x) && isObj(o) && x[keyOf] === o[keyOf]);
    out.sort((a, b) => {
      const ra = rank(a);
      const rb = rank(b);
      return (ra < 0 ? Infinity : ra) - (rb < 0 ? Infinity : rb);
    });
  }
  return out;
}

function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObj(v)) return v;
  return Object.fromEntries(Object.entries(v).filter(([k]) => !k.startsWith('$')).map(([k, x]) => [k, stripDirectives(x)]));
}
