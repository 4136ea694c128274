import type { Cluster, KubeObject } from '../cluster/types.js';
import { ConflictError } from '../cluster/conflict.js';

/** One object's status as the model calls for it. */
export interface StatusUpdate {
  object: KubeObject;
  /** How logs name it (and the key its last write is remembered by). */
  key: string;
  /** The status to write; undefined when the object already has it. */
  status: Record<string, unknown> | undefined;
  /** What the log says once it is written. */
  written: string;
}

/**
 * The leader's status writes for one kind of object: through the status subresource, serialized
 * (one sync at a time, in order), failures logged and never thrown (a conflict is retried at the
 * next sync, with the newer object). An object whose resourceVersion is the one last written from
 * is skipped: the watch has not delivered our own update yet, so writing would only conflict.
 */
export class StatusWriter {
  private chain: Promise<void> = Promise.resolve();
  /** Key -> resourceVersion of the object last written from. */
  private readonly writtenFrom = new Map<string, string>();

  constructor(
    private readonly cluster: Cluster,
    /** Log prefix, e.g. "route status". */
    private readonly what: string,
    private readonly log: (line: string) => void,
    private readonly now: () => Date,
  ) {}

  /** Queue a sync: `updates` gets the time (RFC 3339, seconds) when the sync runs and lists every object of the kind. */
  sync(updates: (now: string) => StatusUpdate[]): Promise<void> {
    const replaceStatus = this.cluster.replaceStatus?.bind(this.cluster);
    if (!replaceStatus) return this.chain;
    this.chain = this.chain.then(async () => {
      const list = updates(this.now().toISOString().replace(/\.\d{3}Z$/, 'Z'));
      const present = new Set(list.map((u) => u.key));
      for (const k of [...this.writtenFrom.keys()]) if (!present.has(k)) this.writtenFrom.delete(k);
      for (const u of list) {
        if (!u.status) continue;
        const version = u.object.metadata.resourceVersion;
        if (version !== undefined && this.writtenFrom.get(u.key) === version) continue;
        try {
          await replaceStatus({ ...u.object, status: u.status });
          if (version !== undefined) this.writtenFrom.set(u.key, version);
          this.log(`${this.what}: ${u.written}`);
        } catch (err) {
          const why = err instanceof ConflictError ? 'changed meanwhile' : (err as Error).message;
          this.log(`${this.what}: cannot write ${u.key} (will retry): ${why}`);
        }
      }
    });
    return this.chain;
  }
}
