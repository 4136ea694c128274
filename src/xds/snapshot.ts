import { createHash } from 'node:crypto';
import { encodeResource, type AnyBytes } from './encode.js';
import { TYPE, TYPE_ORDER, type TypeUrl } from './protos.js';
import type { Msg, Resources } from './translate.js';

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
  readonly types: Readonly<Record<TypeUrl, { readonly version: string; readonly resources: ReadonlyMap<string, SnapshotResource> }>>;
  /** When the source change behind this snapshot was seen (ms since epoch), for push latency. */
  readonly changedAt: number;
}

/**
 * Build a snapshot: encode every resource (throwing if one does not match the Envoy protos) and
 * version each type by the digest of its names and bytes.
 */
export function makeSnapshot(version: string, resources: Resources, changedAt = Date.now()): Snapshot {
  const types = {} as Record<TypeUrl, { version: string; resources: Map<string, SnapshotResource> }>;
  for (const t of TYPE_ORDER) {
    const byName = resources[t] ?? {};
    const map = new Map<string, SnapshotResource>();
    const h = createHash('sha256');
    for (const name of Object.keys(byName).sort()) {
      const msg = byName[name] as Msg;
      const any = encodeResource(t, msg);
      map.set(name, { name, msg, any });
      h.update(name).update('\0').update(any.value).update('\0');
    }
    types[t] = { version: map.size ? h.digest('hex').slice(0, 16) : 'empty', resources: map };
  }
  return Object.freeze({ version, types: Object.freeze(types), changedAt });
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
  for (const r of routes.values()) {
    walk(r.msg, (o) => {
      if (typeof o.cluster === 'string' && !clusters.has(o.cluster)) errors.push(`route ${r.name} names missing cluster ${o.cluster}`);
      if (Array.isArray(o.clusters)) {
        for (const wc of o.clusters as { name?: string }[]) if (wc.name && !clusters.has(wc.name)) errors.push(`route ${r.name} names missing cluster ${wc.name}`);
      }
    });
  }
  return errors;
}

/** Called with the new snapshot whenever a node's snapshot is replaced. */
export type SnapshotListener = (snapshot: Snapshot) => void;

/**
 * Snapshots by node ID. The ADS server reads and watches it; the controller writes it. Setting a
 * snapshot notifies that node's watchers synchronously. Single-threaded (Node), so no locking.
 */
export class SnapshotCache {
  private readonly snapshots = new Map<string, Snapshot>();
  private readonly watchers = new Map<string, Set<SnapshotListener>>();

  /** The node's current snapshot, or undefined before the controller has set one. */
  get(nodeId: string): Snapshot | undefined {
    return this.snapshots.get(nodeId);
  }

  /** Replace a node's snapshot and notify its watchers (no-op when it is the very same object). */
  set(nodeId: string, snapshot: Snapshot): void {
    if (this.snapshots.get(nodeId) === snapshot) return;
    this.snapshots.set(nodeId, snapshot);
    for (const w of this.watchers.get(nodeId) ?? []) w(snapshot);
  }

  /** Forget a node (its watchers stay until they unsubscribe). */
  delete(nodeId: string): void {
    this.snapshots.delete(nodeId);
  }

  /** Node IDs that have a snapshot. */
  nodes(): string[] {
    return [...this.snapshots.keys()].sort();
  }

  /** Watch a node's snapshot; returns the unsubscribe function. */
  watch(nodeId: string, fn: SnapshotListener): () => void {
    let set = this.watchers.get(nodeId);
    if (!set) this.watchers.set(nodeId, (set = new Set()));
    set.add(fn);
    return () => {
      set.delete(fn);
      if (!set.size) this.watchers.delete(nodeId);
    };
  }
}
