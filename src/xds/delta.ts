import { createHash } from 'node:crypto';
import type { AnyBytes } from './encode.js';
import { TYPE } from './protos.js';
import type { Snapshot, SnapshotResource } from './snapshot.js';
import { nackMessage, type ErrorDetail, type RequestNode, type StreamContext, type StreamProtocol, type TypeView } from './stream.js';
import type { TypeSync } from './syncz.js';

/**
 * Incremental xDS (DeltaAggregatedResources): per stream and type the server tracks what the
 * proxy subscribed to and which version of each resource it holds, and sends only resources that
 * are new or changed for it, plus the names of subscribed resources that are gone. The stream's
 * opening, identity, SDS session and bookkeeping are the AdsServer's, shared with SotW.
 */

/** A decoded DeltaDiscoveryRequest (the fields we use). */
export interface DeltaDiscoveryRequest {
  node?: RequestNode;
  type_url?: string;
  resource_names_subscribe?: string[];
  resource_names_unsubscribe?: string[];
  /** On the first request of a type on a (re)connected stream: the versions the proxy already holds. */
  initial_resource_versions?: Record<string, string>;
  response_nonce?: string;
  error_detail?: ErrorDetail;
}

/** One resource of a DeltaDiscoveryResponse. */
export interface DeltaResource {
  name: string;
  version: string;
  resource: AnyBytes;
}

/** A DeltaDiscoveryResponse ready to encode. */
export interface DeltaDiscoveryResponse {
  system_version_info: string;
  resources: DeltaResource[];
  type_url: string;
  removed_resources: string[];
  nonce: string;
  control_plane: { identifier: string };
}

const byBytes = new WeakMap<AnyBytes, string>();

/**
 * A resource's version on delta streams: a digest of its encoded bytes, so it is the same across
 * rebuilds while the resource is unchanged (equal content shares one AnyBytes, see makeSnapshot).
 * Secrets are versioned by their redacted form (certificates, never key bytes).
 */
export function resourceVersion(typeUrl: string, r: SnapshotResource): string {
  if (typeUrl === TYPE.secret) return createHash('sha256').update(JSON.stringify(r.msg)).digest('hex').slice(0, 16);
  let v = byBytes.get(r.any);
  if (v === undefined) byBytes.set(r.any, (v = createHash('sha256').update(r.any.value).digest('hex').slice(0, 16)));
  return v;
}

/** Names whose resource differs between two sets (changed, added or gone), memoized per pair: streams sharing a set diff it once. */
const pairs = new WeakMap<TypeView, { next: TypeView; names: string[] }>();
function changedNames(prev: TypeView, next: TypeView): string[] {
  const hit = pairs.get(prev);
  if (hit?.next === next) return hit.names;
  const names: string[] = [];
  for (const [n, r] of next.resources) {
    const old = prev.resources.get(n);
    if (!old || (old.any !== r.any && Buffer.compare(old.any.value, r.any.value) !== 0)) names.push(n);
  }
  for (const n of prev.resources.keys()) if (!next.resources.has(n)) names.push(n);
  pairs.set(prev, { next, names });
  return names;
}

/** Per type, what the server knows of the proxy beyond TypeSync. */
interface DeltaState {
  /** Names subscribed explicitly (without `*`; TypeSync.names is this, sorted). */
  explicit: Set<string>;
  /** Version of each resource the proxy holds (sent to it or declared on reconnect); null: told it does not exist. */
  held: Map<string, string | null>;
  /** Versions (system_version_info) of responses not answered yet, by nonce. */
  pending: Map<string, string>;
  /** The set `held` was last reconciled with: a snapshot change then only looks at the names that differ. */
  synced?: TypeView;
  /**
   * When the oldest snapshot change held back behind an unanswered response was seen (undefined:
   * none held): the answer's request reconciles with the then current set (see `snapshot`).
   */
  heldSince?: number;
}

const MAX_PENDING = 64;

/** The delta protocol for one stream (see AdsServer.handlers). */
export function deltaProtocol(ctx: StreamContext, write: (res: DeltaDiscoveryResponse) => void): StreamProtocol<DeltaDiscoveryRequest> {
  const { status } = ctx;
  const states = new Map<string, DeltaState>();

  /**
   * Bring the proxy's resources of a type up to date: send what it does not hold at the current
   * version, and name in removed_resources what it subscribed to (or got as a wildcard) that is
   * gone. `candidates` limits the look to those names (a snapshot change); a type's first
   * response is sent even when empty, so the proxy gets a version and a nonce to ACK.
   */
  const reconcile = (snap: Snapshot | undefined, typeUrl: string, st: TypeSync, ds: DeltaState, candidates?: Iterable<string>): void => {
    const t = ctx.view(snap, typeUrl);
    if (!t || ctx.closed()) return;
    const names = candidates ?? new Set([...(st.wildcard ? t.resources.keys() : ds.explicit), ...ds.held.keys()]);
    ds.synced = t;
    const resources: DeltaResource[] = [];
    const removed: string[] = [];
    for (const n of names) {
      const subscribed = ds.explicit.has(n);
      if (!subscribed && !st.wildcard) continue;
      const r = t.resources.get(n);
      if (r) {
        const version = resourceVersion(typeUrl, r);
        if (ds.held.get(n) === version) continue;
        ds.held.set(n, version);
        resources.push({ name: n, version, resource: r.any });
      } else if (subscribed) {
        if (ds.held.get(n) === null) continue;
        ds.held.set(n, null);
        removed.push(n);
      } else if (ds.held.delete(n)) removed.push(n);
    }
    if (!resources.length && !removed.length && st.sentNonce !== undefined) return;
    const nonce = ctx.nonce();
    write({ system_version_info: t.version, resources, type_url: typeUrl, removed_resources: removed, nonce, control_plane: { identifier: ctx.identifier } });
    ds.pending.set(nonce, t.version);
    if (ds.pending.size > MAX_PENDING) ds.pending.delete(ds.pending.keys().next().value as string);
    ctx.sent(typeUrl, st, t.version, nonce, resources.reduce((b, r) => b + r.resource.value.length, 0), snap, ds.heldSince);
    ds.heldSince = undefined;
  };

  /** The snapshot's changes of a type since the stream was last reconciled with it. */
  const catchUp = (snap: Snapshot | undefined, typeUrl: string, st: TypeSync, ds: DeltaState): void => {
    const next = snap && Object.hasOwn(snap.types, typeUrl) ? snap.types[typeUrl as keyof Snapshot['types']] : undefined;
    if (!next || next === ds.synced) return;
    reconcile(snap, typeUrl, st, ds, ds.synced ? changedNames(ds.synced, next) : undefined);
  };

  return {
    request(req) {
      const typeUrl = req.type_url ?? '';
      if (!typeUrl) return;
      const subscribe = req.resource_names_subscribe ?? [];
      const unsubscribe = req.resource_names_unsubscribe ?? [];
      let st = status.types[typeUrl];
      let ds = states.get(typeUrl);
      const isNew = !ds;
      if (!st || !ds) {
        // Legacy wildcard: the first request of a type names nothing.
        status.types[typeUrl] = st = { names: [], wildcard: subscribe.length === 0, pushes: 0 };
        states.set(typeUrl, (ds = { explicit: new Set(), held: new Map(), pending: new Map() }));
      }
      const nonce = req.response_nonce ?? '';
      const version = nonce ? ds.pending.get(nonce) : undefined;
      if (version !== undefined) {
        const nack = nackMessage(req.error_detail);
        if (nack !== undefined) ctx.nack(typeUrl, st, version, nonce, nack);
        else ctx.ack(typeUrl, st, version);
        // Nonces are increasing numbers: this answer settles every earlier response too.
        for (const n of ds.pending.keys()) if (Number(n) <= Number(nonce)) ds.pending.delete(n);
      }
      for (const n of subscribe) {
        if (n === '*') st.wildcard = true;
        else ds.explicit.add(n);
        // The proxy may have dropped a resource it subscribes to again: it must get it even at the same version.
        ds.held.delete(n);
      }
      for (const n of unsubscribe) {
        if (n === '*') st.wildcard = false;
        else ds.explicit.delete(n);
      }
      if (unsubscribe.length) for (const n of ds.held.keys()) if (!st.wildcard && !ds.explicit.has(n)) ds.held.delete(n);
      if (isNew) for (const [n, v] of Object.entries(req.initial_resource_versions ?? {})) if (st.wildcard || ds.explicit.has(n)) ds.held.set(n, v);
      st.names = [...ds.explicit].sort();
      if (typeUrl === TYPE.secret) ctx.wantSecrets();
      // An ACK or NACK alone changes nothing the proxy should get (nothing is resent after a
      // NACK), unless snapshot changes were held back behind the response it answers.
      if (isNew || subscribe.length || unsubscribe.length) reconcile(ctx.snapshot(), typeUrl, st, ds);
      else if (ds.heldSince !== undefined && !ds.pending.size && !ctx.ownSecrets(typeUrl)) catchUp(ctx.snapshot(), typeUrl, st, ds);
    },
    snapshot(snap) {
      for (const [typeUrl, st] of Object.entries(status.types)) {
        const ds = states.get(typeUrl);
        if (!ds || ctx.ownSecrets(typeUrl)) continue;
        // At most one response of a type in flight, as on SotW streams: changes made while it is
        // unanswered wait for the answer, and one response then carries every resource they changed.
        if (ds.pending.size) {
          const next = Object.hasOwn(snap.types, typeUrl) ? snap.types[typeUrl as keyof Snapshot['types']] : undefined;
          if (next && next !== ds.synced) ds.heldSince ??= snap.changedAt;
          continue;
        }
        catchUp(snap, typeUrl, st, ds);
      }
    },
    secretsChanged() {
      const st = status.types[TYPE.secret];
      const ds = states.get(TYPE.secret);
      if (st && ds) reconcile(undefined, TYPE.secret, st, ds);
    },
  };
}
