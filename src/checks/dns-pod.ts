import type { Cluster, KubeObject } from '../cluster/types.js';
import { LABEL_COMPONENT, LABEL_MANAGED_BY, LABEL_PART_OF, LABEL_VERSION, MANAGED_BY, MESH_DOMAIN, PART_OF } from '../constants.js';
import type { LiveContext } from './context.js';

/**
 * The DNS lookup pod of the `dns.service-resolution` check: a busybox pod in the mesh namespace
 * that runs `nslookup` for each host and prints the answers to its log.
 *
 * A single run (`mesh check`) makes one pass and deletes the pod. Under `mesh check --wait` the pod
 * is kept for the whole run (a {@link CheckSession}): it repeats the lookups every few seconds,
 * ending each pass with {@link ROUND_END}, and every round that re-runs the check reads the newest
 * complete pass instead of creating another pod. The session deletes it at the end.
 */

/** The line that ends one pass over the hosts in a repeating pod's log. */
export const ROUND_END = '--- end of lookups';
/** Seconds a repeating pod sleeps between passes (each pass adds to its log, which is read whole). */
const REPEAT_EVERY_S = 5;

/** The pod the check keeps between rounds, and what it last read from it. */
interface KeptPod {
  name: string;
  namespace: string;
  /** The hosts the pod looks up, space separated: other hosts need another pod. */
  hosts: string;
  /** Passes already used by a round: a later round waits for a newer one. */
  passesSeen: number;
}

/**
 * State one `mesh check --wait` run keeps across its rounds: the DNS lookup pod. `close` deletes
 * it; call it once the run is over, whatever happened.
 */
export class CheckSession {
  /** @internal the lookup pod, while one exists. */
  dnsPod: KeptPod | undefined;

  /** `lifetimeMs`: how long the run may still take; bounds the kept pod's activeDeadlineSeconds. */
  constructor(
    private readonly cluster: Cluster,
    readonly lifetimeMs: number,
  ) {}

  /** Delete what the session created (a failed delete is left to the pod's activeDeadlineSeconds). */
  async close(): Promise<void> {
    const pod = this.dnsPod;
    this.dnsPod = undefined;
    if (pod) await this.cluster.delete('v1', 'Pod', pod.name, pod.namespace).catch(() => undefined);
  }
}

/** What a lookup produced: the log of one complete pass, or why there is none. */
export type LookupResult = { log: string } | { unfinished: { name: string; phase: string } };

function phaseOf(pod: KubeObject | undefined): string {
  const st = pod?.status;
  return typeof st === 'object' && st !== null ? String((st as { phase?: unknown }).phase ?? '') : '';
}

/** The passes in a repeating pod's log: each complete pass's text, oldest first. */
export function completePasses(log: string): string[] {
  const parts = log.split(`${ROUND_END}\n`);
  // The text after the last marker is a pass still being written.
  return parts.slice(0, -1);
}

function lookupPod(ctx: LiveContext, name: string, hosts: string[], repeat: boolean, lifetimeMs: number): KubeObject {
  const pass = `for h in ${hosts.join(' ')}; do echo "== $h"; nslookup "$h" || true; done`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name,
      namespace: ctx.namespace,
      labels: { [LABEL_PART_OF]: PART_OF, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_VERSION]: ctx.version, [LABEL_COMPONENT]: 'check-dns' },
      annotations: { [`${MESH_DOMAIN}/inject`]: 'disabled' },
    },
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: Math.max(10, Math.ceil((ctx.dnsPodTimeoutMs + lifetimeMs) / 1000)),
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'lookup',
          image: ctx.dnsImage,
          command: ['sh', '-c', repeat ? `while :; do ${pass}; echo "${ROUND_END}"; sleep ${REPEAT_EVERY_S}; done` : pass],
          securityContext: { allowPrivilegeEscalation: false, runAsNonRoot: true, runAsUser: 65534, capabilities: { drop: ['ALL'] } },
        },
      ],
    },
  };
}

/**
 * Look `hosts` up from inside the cluster. Without a session: create a pod, wait for it to finish,
 * read its log, delete it. With one: reuse the session's pod when it looks up the same hosts and
 * wait for a pass newer than the last one used (at most `ctx.dnsPodTimeoutMs`).
 */
export async function lookupFromCluster(ctx: LiveContext, hosts: string[], signal: AbortSignal): Promise<LookupResult> {
  const session = ctx.session;
  const key = hosts.join(' ');
  let kept = session?.dnsPod;
  if (session && kept && kept.hosts !== key) {
    await session.close();
    kept = undefined;
  }
  const name = kept?.name ?? `mesh-check-dns-${Math.random().toString(36).slice(2, 8)}`;
  if (!kept) {
    await ctx.cluster.create(lookupPod(ctx, name, hosts, session !== undefined, session?.lifetimeMs ?? 0));
    if (session) session.dnsPod = kept = { name, namespace: ctx.namespace, hosts: key, passesSeen: 0 };
  }
  try {
    const deadline = Date.now() + ctx.dnsPodTimeoutMs;
    let phase = '';
    while (!signal.aborted && Date.now() < deadline) {
      phase = phaseOf(await ctx.cluster.get('v1', 'Pod', name, ctx.namespace));
      const finished = phase === 'Succeeded' || phase === 'Failed';
      if (kept && (phase === 'Running' || finished)) {
        const log = await ctx.cluster.podLogs(ctx.namespace, name);
        const passes = completePasses(log);
        if (passes.length > kept.passesSeen) {
          kept.passesSeen = passes.length;
          return { log: passes[passes.length - 1]! };
        }
        if (finished) {
          // A kept pod that stopped (its deadline, or it made one pass) has nothing newer to say:
          // drop it, so a later round starts a new one; its log counts only if never used.
          await session!.close();
          if (kept.passesSeen === 0) return { log };
          break;
        }
      } else if (finished) {
        return { log: await ctx.cluster.podLogs(ctx.namespace, name) };
      }
      await new Promise((r) => setTimeout(r, ctx.pollMs));
    }
    return { unfinished: { name, phase } };
  } finally {
    // A one-off pod is ours and short-lived: remove it even when the check gave up (awaited, so
    // the CLI does not exit before the request is sent; a failed delete is left to activeDeadline).
    if (!session) await ctx.cluster.delete('v1', 'Pod', name, ctx.namespace).catch(() => undefined);
  }
}
