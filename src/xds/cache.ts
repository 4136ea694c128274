import { EncodeMemo, type Snapshot } from './snapshot.js';

/** Called with the new snapshot whenever a node's snapshot is replaced. */
export type SnapshotListener = (snapshot: Snapshot) => void;

/**
 * What the ADS server needs of a cache (as go-control-plane's server needs its Cache): the current
 * snapshot of a node key, and a watch that is told of each replacement. The server only reads.
 */
export interface ConfigCache {
  /** The node's current snapshot, or undefined before one was set. */
  get(nodeId: string): Snapshot | undefined;
  /** Call `fn` synchronously with each new snapshot of the node; returns the unsubscribe function. */
  watch(nodeId: string, fn: SnapshotListener): () => void;
}

/**
 * Snapshots by node ID. The ADS server reads and watches it; the controller writes it. Setting a
 * snapshot notifies that node's watchers synchronously. Single-threaded (Node), so no locking.
 * It owns the encode memo its snapshots are built with, so two caches (two control planes in one
 * process, tests) share nothing.
 */
export class SnapshotCache implements ConfigCache {
  /** Encodings carried between the builds of this cache's snapshots (pass to makeSnapshot/patchType). */
  readonly memo = new EncodeMemo();
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
