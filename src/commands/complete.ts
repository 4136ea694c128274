import type { Command } from 'commander';
import { KINDS } from '../cluster/resource-ref.js';
import { globalsOf } from '../ui/context.js';
import { RESOURCE_KINDS, type ResourceKindName } from '../ui/completion.js';
import { currentStreams } from '../util/cli-streams.js';

/** How long completion waits for the cluster: a shell must never hang on TAB. */
const COMPLETE_TIMEOUT_MS = 2000;

const KIND_OF: Record<ResourceKindName, (typeof KINDS)[keyof typeof KINDS]> = { namespaces: KINDS.ns, pods: KINDS.pod, services: KINDS.svc };

/**
 * `mesh __complete namespaces|pods|services [-n NS]` (hidden): names for the completion scripts,
 * one per line, read from the cluster. Prints nothing and exits 0 when no cluster answers.
 */
export function define(cmd: Command): void {
  cmd.argument('<kind>').action(async (kind: string, _opts: unknown, command: Command) => {
    if (!(RESOURCE_KINDS as readonly string[]).includes(kind)) return;
    const g = globalsOf(command);
    try {
      const { connect } = await import('../cluster/index.js');
      const cluster = await connect({ kubeconfig: g.kubeconfig, context: g.context, timeoutMs: COMPLETE_TIMEOUT_MS });
      const k = KIND_OF[kind as ResourceKindName];
      const namespace = kind === 'namespaces' ? undefined : (g.namespace ?? cluster.defaultNamespace ?? 'default');
      const list = cluster.list(k.apiVersion, k.kind, namespace ? { namespace } : {});
      const timeout = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('timeout')), COMPLETE_TIMEOUT_MS).unref());
      const names = (await Promise.race([list, timeout])).map((o) => o.metadata.name).sort();
      currentStreams().out.write(names.map((n) => `${n}\n`).join(''));
    } catch {
      // No cluster, no names: completion falls back to the fixed words.
    }
  });
}
