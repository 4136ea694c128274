import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';
import { MESH_FLAGS } from './flags.js';

/** `mesh proxy-status [POD]`: per proxy, its controller replica and xDS sync state. Handler: src/status/proxy-status.ts. */
export function define(cmd: Command): void {
  cmd
    .argument('[pod]', 'one pod, as NAME or NAME.NAMESPACE (default: every proxy)')
    .addOption(MESH_FLAGS.meshNamespace())
    .option('--controller-port <port>', 'port of the controller\'s /debug endpoints (default 15014)')
    .addHelpText('after', '\nPer xDS type: SYNCED (last push ACKed), STALE (sent, not ACKed yet), NACKED (rejected; the proxy keeps its last good config), NOT SENT, - (not subscribed).\nExamples:\n  mesh proxy-status\n  mesh proxy-status web-5d9f7.shop\n  mesh proxy-status -n shop -o json')
    .action(async (pod: string | undefined, opts: { meshNamespace?: string; controllerPort?: string }, command: Command) => {
      const g = globalsOf(command);
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['table', 'wide', 'json', 'yaml'] as const, 'table');
      const { DEFAULT_CONTROLLER, controllerLocation } = await import('../status/controller-debug.js');
      const controller = controllerLocation(opts, DEFAULT_CONTROLLER);
      const { runProxyStatus } = await import('../status/proxy-status.js');
      const { connect } = await import('../cluster/index.js');
      const cluster = await connect({ kubeconfig: g.kubeconfig, context: g.context });
      process.exitCode = await runProxyStatus({ pod, namespace: g.allNamespaces ? undefined : g.namespace, output, controller }, ui, cluster);
    });
}
