import { createHash } from 'node:crypto';
import { encodeResource, type AnyBytes } from './encode.js';
import { TYPE, TYPE_ORDER, type TypeUrl } from './protos.js';
import { UNRESOLVED_CLUSTER_PREFIX, type Msg, type Resources } from './translate.js';

/** One resource of a snapshot: its plain form (for config_dump) and its wire form. */
export interface SnapshotResource {
  readonly name: string;
  readonly msg: Msg;
  readonly any: AnyBytes;
}

/**
 * An immutable, versioned set of resources for one proxy (or a class of identical proxies). Each
 * type has its own version, a digest of its resources, so a change to endpoints pushes EDS only.
 * Callers must not alter it; build a new one instead.
 */
export interface Snapshot {
  /** The model generation this snapshot was built from (for debugging and syncz). */
  readonly version: string;
  readonly types: Readonly<Record<TypeUrl, TypeResources>>;
  /** When the source change behind this snapshot was seen (ms since epoch), for push latency. */
  readonly changedAt: number;
}

/**
 * Encodings by object (translation shares objects between proxies) and by content (across model
 * generations), so equal content gives the very same AnyBytes object, which the ADS server and
 * delta versions use to tell quickly what did not change. Owned by whoever builds a series of
 * snapshots (the controller's cache holds one); not shared between caches.
 */
export class EncodeMemo {
  private readonly byObject = new WeakMap<Msg, AnyBytes>();
  private byContent = new Map<string, AnyBytes>();
  private previousContent = new Map<string, AnyBytes>();

  /** At most this many encodings by content per generation of the memo (two generations are kept). */
  static readonly CONTENT_MAX = 50_000;

  /**
   * The content key of a message: a SHA-256 digest of its type and JSON, not the JSON itself. The
   * JSON was the key until it showed as memory: 8.5 MB of keys for the 1,000-proxy scale bench's
   * mesh, and about 3 KB more per endpoint change (a new ClusterLoadAssignment), kept until
   * CONTENT_MAX entries: under a 10%/min endpoint churn, hundreds of MB within minutes.
   */
  static contentKey(typeUrl: string, msg: Msg): string {
    return createHash('sha256').update(typeUrl).update('\0').update(JSON.stringify(msg)).digest('base64');
  }

  /** The encoding of `msg` as `typeUrl` (throws as encodeResource does). */
  encode(typeUrl: string, msg: Msg): AnyBytes {
    const hit = this.byObject.get(msg);
    if (hit) return hit;
    const key = EncodeMemo.contentKey(typeUrl, msg);
    let any = this.byContent.get(key) ?? this.previousContent.get(key);
    if (!any) any = encodeResource(typeUrl, msg);
    // Two generations of content are kept: enough to find everything unchanged since the last build.
    if (this.byContent.size >= EncodeMemo.CONTENT_MAX) {
      this.previousContent = this.byContent;
      this.byContent = new Map();
    }
    this.byContent.set(key, any);
    this.byObject.set(msg, any);
    return any;
  }
}

/** One type of a snapshot: its version and resources by name (in name order). Immutable and shared between snapshots. */
export interface TypeResources {
  readonly version: string;
  readonly resources: ReadonlyMap<string, SnapshotResource>;
}

/** The version of a type: a digest of its names and bytes, in name order ("empty" without resources). */
function typeVersion(map: ReadonlyMap<string, SnapshotResource>): string {
  if (!map.size) return 'empty';
  const h = createHash('sha256');
  for (const [name, r] of map) h.update(name).update('\0').update(r.any.value).update('\0');
  return h.digest('hex').slice(0, 16);
}

/**
 * Type sets by type and version, so proxies whose resources of a type come out equal share one
 * object (memory, and an incremental update then patches it once). The caller owns the map and
 * decides its lifetime (the controller keeps one per model generation).
 */
export type TypeInterner = Map<string, TypeResources>;

function intern(interner: TypeInterner | undefined, t: TypeUrl, set: TypeResources): TypeResources {
  if (!interner) return set;
  const key = internKey(t, set.version);
  const hit = interner.get(key);
  if (hit) return hit;
  interner.set(key, set);
  return set;
}

/** Register a snapshot's type sets (where the interner has none of that version yet), so snapshots built later share them. */
export function seedInterner(interner: TypeInterner, snapshot: Snapshot): void {
  for (const t of TYPE_ORDER) {
    const key = internKey(t, snapshot.types[t].version);
    if (!interner.has(key)) interner.set(key, snapshot.types[t]);
  }
}

function internKey(t: TypeUrl, version: string): string {
  return `${t}\0${version}`;
}

/**
 * Build a snapshot: encode every resource (throwing if one does not match the Envoy protos) and
 * version each type by the digest of its names and bytes. With `interner`, a type set equal to one
 * already built (same version) is shared instead. `memo` carries encodings between builds (the
 * cache's, in the controller); without one, encodings are shared within this build only.
 */
export function makeSnapshot(version: string, resources: Resources, changedAt = Date.now(), interner?: TypeInterner, memo: EncodeMemo = new EncodeMemo()): Snapshot {
  const types = {} as Record<TypeUrl, TypeResources>;
  for (const t of TYPE_ORDER) {
    const byName = resources[t] ?? {};
    const map = new Map<string, SnapshotResource>();
    for (const name of Object.keys(byName).sort()) {
      const msg = byName[name] as Msg;
      // Equal content gives the very same AnyBytes object, which the ADS server uses to send only what changed.
      map.set(name, { name, msg, any: memo.encode(t, msg) });
    }
    types[t] = intern(interner, t, { version: typeVersion(map), resources: map });
  }
  return Object.freeze({ version, types: Object.freeze(types), changedAt });
}

/**
 * A type set with some resources replaced (encoded and checked like makeSnapshot does): only names
 * the set already has are replaced, never added, so a proxy keeps exactly the names its scope gave
 * it. Returns `set` itself when nothing in it changes. The version is computed as makeSnapshot
 * would for the same resources, so an incremental update and a full build agree. With `interner`,
 * the result is interned and `set` forgotten. `memo` as for makeSnapshot.
 */
export function patchType(typeUrl: TypeUrl, set: TypeResources, replace: ReadonlyMap<string, Msg>, interner?: TypeInterner, memo: EncodeMemo = new EncodeMemo()): TypeResources {
  let map: Map<string, SnapshotResource> | undefined;
  for (const [name, msg] of replace) {
    const old = set.resources.get(name);
    if (!old || old.msg === msg) continue;
    const any = memo.encode(typeUrl, msg);
    if (any === old.any) continue;
    map ??= new Map(set.resources);
    map.set(name, { name, msg, any });
  }
  if (!map) return set;
  const next = intern(interner, typeUrl, Object.freeze({ version: typeVersion(map), resources: map }));
  // The old set is replaced wherever the caller patches it: do not keep it alive.
  if (interner?.get(internKey(typeUrl, set.version)) === set) interner.delete(internKey(typeUrl, set.version));
  return next;
}

/** A new snapshot (version and change time given) that shares every type with `s` except `typeUrl`. */
export function withType(s: Snapshot, version: string, typeUrl: TypeUrl, set: TypeResources, changedAt: number): Snapshot {
  return Object.freeze({ version, types: Object.freeze({ ...s.types, [typeUrl]: set }), changedAt });
}

function walk(v: unknown, visit: (o: Record<string, unknown>) => void): void {
  if (Array.isArray(v)) for (const x of v) walk(x, visit);
  else if (typeof v === 'object' && v !== null) {
    visit(v as Record<string, unknown>);
    for (const x of Object.values(v)) walk(x, visit);
  }
}

/**
 * go-control-plane's consistency check, pure: every EDS resource belongs to a cluster in CDS,
 * every route configuration an HCM names through RDS is in RDS (and vice versa), and every cluster
 * a route or tcp_proxy names exists. Returns the problems; empty means consistent.
 */
export function consistent(s: Snapshot): string[] {
  const errors: string[] = [];
  const clusters = s.types[TYPE.cluster].resources;
  const routes = s.types[TYPE.route].resources;
  const edsNames = new Set<string>();
  for (const c of clusters.values()) {
    if (c.msg.type === 'EDS') {
      const cfg = c.msg.eds_cluster_config as { service_name?: string } | undefined;
      edsNames.add(cfg?.service_name ?? c.name);
    }
  }
  for (const name of s.types[TYPE.endpoint].resources.keys()) {
    if (!edsNames.has(name)) errors.push(`EDS ${name} is not named by any EDS cluster in CDS`);
  }
  for (const name of edsNames) {
    if (!s.types[TYPE.endpoint].resources.has(name)) errors.push(`CDS cluster ${name} has no EDS resource`);
  }
  const rdsNames = new Set<string>();
  for (const l of s.types[TYPE.listener].resources.values()) {
    walk(l.msg, (o) => {
      const rds = o.rds as { route_config_name?: string } | undefined;
      if (o['@type'] && rds?.route_config_name) rdsNames.add(rds.route_config_name);
      if (typeof o.cluster === 'string' && !clusters.has(o.cluster)) errors.push(`listener ${l.name} names missing cluster ${o.cluster}`);
    });
  }
  for (const name of routes.keys()) if (!rdsNames.has(name)) errors.push(`RDS ${name} is not named by any listener in LDS`);
  for (const name of rdsNames) if (!routes.has(name)) errors.push(`LDS names route configuration ${name}, which RDS does not have`);
  // A route may name an `unresolved|` cluster: absent on purpose, so Envoy answers 500 for it.
  const missing = (name: string): boolean => !clusters.has(name) && !name.startsWith(UNRESOLVED_CLUSTER_PREFIX);
  for (const r of routes.values()) {
    walk(r.msg, (o) => {
      if (typeof o.cluster === 'string' && missing(o.cluster)) errors.push(`route ${r.name} names missing cluster ${o.cluster}`);
      if (Array.isArray(o.clusters)) {
        for (const wc of o.clusters as { name?: string }[]) if (wc.name && missing(wc.name)) errors.push(`route ${r.name} names missing cluster ${wc.name}`);
      }
    });
  }
  return errors;
}
