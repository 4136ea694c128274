import { ConflictError } from '../cluster/conflict.js';
import type { Cluster, KubeObject } from '../cluster/types.js';

/** Options of {@link LeaderElector}. */
export interface LeaderElectorOptions {
  cluster: Cluster;
  namespace: string;
  /** Lease name (CONTROLLER_NAME). */
  name: string;
  /** This replica (the pod name). */
  identity: string;
  /** A holder that has not renewed for this long loses the lease (default 15 s). */
  leaseDurationMs?: number;
  /** How often to try to acquire or renew (default 2 s). */
  retryMs?: number;
  clock?: () => number;
  log?: (line: string) => void;
  /** Called when this replica becomes the leader / stops being it. */
  onChange?: (leader: boolean) => void;
}

/** MicroTime as Kubernetes writes it: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/Z$/, '000Z');
}

function parseTime(v: unknown): number {
  if (typeof v !== 'string') return 0;
  // Date.parse wants at most milliseconds.
  const t = Date.parse(v.replace(/(\.\d{3})\d+/, '$1'));
  return Number.isNaN(t) ? 0 : t;
}

interface LeaseSpec {
  holderIdentity?: string;
  leaseDurationSeconds?: number;
  acquireTime?: string;
  renewTime?: string;
  leaseTransitions?: number;
}

/**
 * Leader election with a coordination.k8s.io/v1 Lease, as client-go does it: the holder renews
 * renewTime; anyone may take a lease whose renewTime + leaseDuration has passed, or that has no
 * holder. Every write carries the resourceVersion read, so two replicas cannot both win. A leader
 * that cannot renew for a lease duration steps down on its own.
 */
export class LeaderElector {
  private leader = false;
  private lastRenew = 0;
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private readonly duration: number;
  private readonly clock: () => number;
  private readonly log: (line: string) => void;

  constructor(private readonly o: LeaderElectorOptions) {
    this.duration = o.leaseDurationMs ?? 15_000;
    this.clock = o.clock ?? Date.now;
    this.log = o.log ?? (() => undefined);
  }

  /** True while this replica holds the lease. */
  get isLeader(): boolean {
    return this.leader;
  }

  private set(leader: boolean): void {
    if (leader === this.leader) return;
    this.leader = leader;
    this.log(`leader election: ${this.o.identity} ${leader ? 'became the leader' : 'is no longer the leader'} (Lease ${this.o.namespace}/${this.o.name})`);
    this.o.onChange?.(leader);
  }

  private lease(spec: LeaseSpec, from?: KubeObject): KubeObject {
    return {
      apiVersion: 'coordination.k8s.io/v1',
      kind: 'Lease',
      metadata: from ? { ...from.metadata, managedFields: undefined } : { name: this.o.name, namespace: this.o.namespace },
      spec,
    };
  }

  /** create/replace, with a lost race (ConflictError) as undefined. */
  private async write(fn: () => Promise<KubeObject>): Promise<KubeObject | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (err instanceof ConflictError) return undefined;
      throw err;
    }
  }

  /** One round: acquire or renew. Resolves to whether this replica leads afterwards. */
  async tryOnce(): Promise<boolean> {
    const now = this.clock();
    const seconds = Math.ceil(this.duration / 1000);
    try {
      const cur = await this.o.cluster.get('coordination.k8s.io/v1', 'Lease', this.o.name, this.o.namespace);
      let won: KubeObject | undefined;
      if (!cur) {
        won = await this.write(() => this.o.cluster.create(this.lease({ holderIdentity: this.o.identity, leaseDurationSeconds: seconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: 0 })));
      } else {
        const spec = (cur.spec ?? {}) as LeaseSpec;
        const mine = spec.holderIdentity === this.o.identity;
        const expired = !spec.holderIdentity || parseTime(spec.renewTime) + (spec.leaseDurationSeconds ?? seconds) * 1000 <= now;
        if (mine) won = await this.write(() => this.o.cluster.replace(this.lease({ ...spec, leaseDurationSeconds: seconds, renewTime: microTime(now) }, cur)));
        else if (expired) {
          won = await this.write(() => this.o.cluster.replace(this.lease({ holderIdentity: this.o.identity, leaseDurationSeconds: seconds, acquireTime: microTime(now), renewTime: microTime(now), leaseTransitions: (spec.leaseTransitions ?? 0) + 1 }, cur)));
        }
      }
      if (won) this.lastRenew = now;
      this.set(won !== undefined);
    } catch (err) {
      // The API server is away: keep leading only while the lease we last renewed is still ours.
      this.log(`leader election: cannot reach the Lease: ${(err as Error).message}`);
      if (this.leader && now - this.lastRenew >= this.duration) this.set(false);
    }
    return this.leader;
  }

  /** Run rounds every retryMs until stop(). */
  start(): void {
    if (this.running) return;
    this.running = true;
    const loop = (): void => {
      void this.tryOnce().finally(() => {
        if (this.running) this.timer = setTimeout(loop, this.o.retryMs ?? 2_000);
      });
    };
    loop();
  }

  /** Stop; a leader releases the lease (no holder) so another replica takes over at once. */
  async stop(): Promise<void> {
    this.running = false;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leader) return;
    try {
      const cur = await this.o.cluster.get('coordination.k8s.io/v1', 'Lease', this.o.name, this.o.namespace);
      const spec = (cur?.spec ?? {}) as LeaseSpec;
      if (cur && spec.holderIdentity === this.o.identity) await this.write(() => this.o.cluster.replace(this.lease({ leaseDurationSeconds: spec.leaseDurationSeconds, leaseTransitions: spec.leaseTransitions }, cur)));
    } catch (err) {
      this.log(`leader election: could not release the Lease: ${(err as Error).message}`);
    }
    this.set(false);
  }
}
