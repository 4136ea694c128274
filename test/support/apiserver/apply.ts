// Field ownership (metadata.managedFields, FieldsV1) and server-side apply, after
// sigs.k8s.io/structured-merge-diff: every write records which manager set which fields; an apply
// that changes a field another manager owns fails with a 409 listing the conflicts unless forced;
// fields a manager applied before and no longer applies are removed when nobody else owns them.
import { ApiError, type StatusCause } from './errors.ts';
import { clone, deepEqual, isObj, mergeKeyFor } from './patch.ts';

type Json = unknown;
type Obj = Record<string, Json>;
/** A field path as FieldsV1 spells its elements: "f:spec", `k:{"name":"app"}`, "." (the item itself). */
type Path = string[];

/** One metadata.managedFields entry. */
export interface ManagedFieldsEntry {
  manager: string;
  operation: 'Apply' | 'Update';
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Obj;
  subresource?: string;
}

const SERVER_META = new Set(['name', 'namespace', 'uid', 'resourceVersion', 'generation', 'creationTimestamp', 'managedFields', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'selfLink']);

const enc = (p: Path) => p.join('\u0001');
const dec = (s: string): Path => s.split('\u0001');

/** The set of fields an object sets, restricted to the main resource or to one subresource ("status"). */
export function fieldSet(obj: Obj, subresource?: string): Set<string> {
  const out = new Set<string>();
  const walk = (v: Json, field: string, p: Path) => {
    if (isObj(v) && Object.keys(v).length > 0) {
      for (const [k, x] of Object.entries(v)) walk(x, k, [...p, `f:${k}`]);
    } else if (Array.isArray(v) && v.length > 0 && mergeKeyFor(field, v)) {
      const key = mergeKeyFor(field, v)!;
      for (const item of v as Obj[]) {
        const ip = [...p, `k:${JSON.stringify({ [key]: item[key] })}`];
        out.add(enc([...ip, '.']));
        for (const [k, x] of Object.entries(item)) walk(x, k, [...ip, `f:${k}`]);
      }
    } else out.add(enc(p));
  };
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (subresource ? k !== subresource : k === 'status') continue;
    if (k === 'metadata' && isObj(v)) {
      for (const [mk, mv] of Object.entries(v)) if (!SERVER_META.has(mk)) walk(mv, mk, ['f:metadata', `f:${mk}`]);
      continue;
    }
    walk(v, k, [`f:${k}`]);
  }
  return out;
}

function step(v: Json, el: string): Json {
  if (el.startsWith('f:')) return isObj(v) ? v[el.slice(2)] : undefined;
  if (el.startsWith('k:') && Array.isArray(v)) {
    const [[k, want]] = Object.entries(JSON.parse(el.slice(2)) as Obj) as [[string, Json]];
    return v.find((i) => isObj(i) && deepEqual(i[k], want));
  }
  return undefined;
}

function valueAt(obj: Json, p: Path): Json {
  let cur = obj;
  for (const el of p) {
    if (el === '.') return cur === undefined ? undefined : true;
    cur = step(cur, el);
    if (cur === undefined) return undefined;
  }
  return cur;
}

function removeAt(obj: Json, p: Path): void {
  const last = p[p.length - 1] === '.' ? p.length - 2 : p.length - 1;
  let cur = obj;
  for (const el of p.slice(0, last)) cur = step(cur, el);
  const el = p[last]!;
  if (el.startsWith('f:') && isObj(cur)) delete cur[el.slice(2)];
  else if (el.startsWith('k:') && Array.isArray(cur)) {
    const item = step(cur, el);
    const i = cur.indexOf(item);
    if (i >= 0) cur.splice(i, 1);
  }
}

/** Human form of a path, as conflict messages print it: `.spec.containers[name="app"].image`. */
export function pathString(p: Path): string {
  return p
    .filter((el) => el !== '.')
    .map((el) => {
      if (el.startsWith('f:')) return `.${el.slice(2)}`;
      const o = JSON.parse(el.slice(2)) as Obj;
      return `[${Object.entries(o).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(',')}]`;
    })
    .join('');
}

/** FieldsV1 tree from a set of paths. */
function toFieldsV1(set: Set<string>): Obj {
  const root: Obj = {};
  for (const s of [...set].sort()) {
    let node = root;
    for (const el of dec(s)) node = (node[el] ??= {}) as Obj;
  }
  return root;
}

function fromFieldsV1(tree: Obj, prefix: Path = [], out = new Set<string>()): Set<string> {
  for (const [el, child] of Object.entries(tree)) {
    const p = [...prefix, el];
    if (el === '.' || !isObj(child) || Object.keys(child).length === 0) out.add(enc(p));
    else fromFieldsV1(child, p, out);
  }
  return out;
}

function entries(obj: Obj): ManagedFieldsEntry[] {
  const meta = obj.metadata as Obj | undefined;
  return Array.isArray(meta?.managedFields) ? (meta.managedFields as ManagedFieldsEntry[]) : [];
}

const now = () => new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const sameEntry = (e: ManagedFieldsEntry, manager: string, op: string, sub?: string) => e.manager === manager && e.operation === op && (e.subresource ?? '') === (sub ?? '');

function setEntries(obj: Obj, list: { e: ManagedFieldsEntry; set: Set<string> }[]): void {
  const meta = (obj.metadata ??= {}) as Obj;
  meta.managedFields = list.filter((x) => x.set.size > 0).map(({ e, set }) => ({ ...e, fieldsV1: toFieldsV1(set) }));
}

/**
 * Record an Update-operation write by `manager`: it takes the fields it changed (from the other
 * managers too); fields that disappeared are owned by nobody. Mutates and returns `next`.
 */
export function recordUpdate(prev: Obj | undefined, next: Obj, manager: string, apiVersion: string, subresource?: string): Obj {
  const before = prev ? fieldSet(prev, subresource) : new Set<string>();
  const after = fieldSet(next, subresource);
  const changed = new Set([...after].filter((p) => !before.has(p) || !deepEqual(valueAt(prev, dec(p)), valueAt(next, dec(p)))));
  const list = entries(prev ?? {}).map((e) => {
    const set = fromFieldsV1(e.fieldsV1);
    const inScope = (e.subresource ?? '') === (subresource ?? '');
    if (inScope) for (const p of set) if (changed.has(p) || !after.has(p)) set.delete(p);
    return { e, set };
  });
  if (changed.size > 0) {
    let mine = list.find((x) => sameEntry(x.e, manager, 'Update', subresource));
    if (!mine) {
      mine = { e: { manager, operation: 'Update', apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: {}, ...(subresource ? { subresource } : {}) }, set: new Set() };
      list.push(mine);
    }
    for (const p of changed) mine.set.add(p);
    mine.e = { ...mine.e, time: now(), apiVersion };
  }
  setEntries(next, list);
  return next;
}

function mergeApplied(live: Json, cfg: Json, field: string): Json {
  if (isObj(cfg)) {
    const out: Obj = isObj(live) ? clone(live) : {};
    for (const [k, v] of Object.entries(cfg)) out[k] = mergeApplied(out[k], v, k);
    return out;
  }
  if (Array.isArray(cfg) && Array.isArray(live)) {
    const key = mergeKeyFor(field, cfg);
    if (key && mergeKeyFor(field, live) === key) {
      const out = live.map((x) => clone(x));
      for (const item of cfg as Obj[]) {
        const i = out.findIndex((x) => isObj(x) && deepEqual(x[key], item[key]));
        if (i >= 0) out[i] = mergeApplied(out[i], item, field);
        else out.push(clone(item));
      }
      return out;
    }
  }
  return clone(cfg);
}

/**
 * Server-side apply of `config` by `manager` onto `live` (undefined when creating). Throws a 409
 * Conflict Status listing the conflicting fields unless `force`. Returns the new object with its
 * managedFields updated (server-owned metadata is left to the caller).
 */
export function serverSideApply(live: Obj | undefined, config: Obj, manager: string, apiVersion: string, force: boolean, subresource?: string): Obj {
  const base = live ? clone(live) : {};
  const applied = fieldSet(config, subresource);
  const list = entries(base).map((e) => ({ e, set: fromFieldsV1(e.fieldsV1) }));
  const mineIdx = list.findIndex((x) => sameEntry(x.e, manager, 'Apply', subresource));
  const prevMine = mineIdx >= 0 ? list[mineIdx]!.set : new Set<string>();
  const others = list.filter((_, i) => i !== mineIdx);

  const conflicts: { manager: ManagedFieldsEntry; path: Path }[] = [];
  for (const s of applied) {
    const p = dec(s);
    if (p[p.length - 1] === '.' || deepEqual(valueAt(base, p), valueAt(config, p))) continue;
    for (const o of others) if (o.set.has(s)) conflicts.push({ manager: o.e, path: p });
  }
  if (conflicts.length > 0 && !force) throw applyConflict(conflicts);
  if (force) for (const c of conflicts) for (const o of others) o.set.delete(enc(c.path));

  const cfgBody: Obj = {};
  for (const [k, v] of Object.entries(config)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (subresource ? k !== subresource : k === 'status') continue;
    cfgBody[k] = k === 'metadata' && isObj(v) ? Object.fromEntries(Object.entries(v).filter(([mk]) => !SERVER_META.has(mk))) : v;
  }
  const merged = mergeApplied(base, cfgBody, '') as Obj;
  // Fields this manager applied before, applies no more, and nobody else owns: removed.
  const ownedByOthers = new Set(others.flatMap((o) => [...o.set]));
  const dropped = [...prevMine].filter((s) => !applied.has(s) && !ownedByOthers.has(s)).map(dec);
  dropped.sort((a, b) => b.length - a.length);
  for (const p of dropped) removeAt(merged, p);

  const entry: ManagedFieldsEntry = { manager, operation: 'Apply', apiVersion, time: now(), fieldsType: 'FieldsV1', fieldsV1: {}, ...(subresource ? { subresource } : {}) };
  // Other managers stop owning fields that no longer exist.
  const present = fieldSet(merged, subresource);
  for (const o of others) if ((o.e.subresource ?? '') === (subresource ?? '')) for (const s of o.set) if (!present.has(s)) o.set.delete(s);
  const ordered = mineIdx >= 0 ? list.map((x, i) => (i === mineIdx ? { e: entry, set: applied } : x)) : [...list, { e: entry, set: applied }];
  setEntries(merged, ordered);
  return merged;
}

function printManager(e: ManagedFieldsEntry): string {
  let s = JSON.stringify(e.manager);
  if (e.subresource) s += ` with subresource ${JSON.stringify(e.subresource)}`;
  if (e.operation === 'Update') s += ` using ${e.apiVersion} at ${e.time}`;
  return s;
}

/** The 409 the real server answers for apply conflicts (apimachinery fieldmanager/internal/conflict.go). */
function applyConflict(conflicts: { manager: ManagedFieldsEntry; path: Path }[]): ApiError {
  const causes: StatusCause[] = conflicts.map((c) => ({ reason: 'FieldManagerConflict', message: `conflict with ${printManager(c.manager)}`, field: pathString(c.path) }));
  let message: string;
  if (conflicts.length === 1) {
    message = `Apply failed with 1 conflict: conflict with ${printManager(conflicts[0]!.manager)}: ${pathString(conflicts[0]!.path)}`;
  } else {
    const by = new Map<string, string[]>();
    for (const c of conflicts) {
      const k = printManager(c.manager);
      by.set(k, [...(by.get(k) ?? []), pathString(c.path)]);
    }
    const lines: string[] = [];
    for (const m of [...by.keys()].sort()) {
      lines.push(`conflicts with ${m}:`);
      for (const p of by.get(m)!) lines.push(`- ${p}`);
    }
    message = `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
  }
  return new ApiError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: 'Conflict', details: { causes }, code: 409 });
}
