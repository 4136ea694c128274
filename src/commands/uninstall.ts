import type { Command } from 'commander';
import { DEFAULT_NAMESPACE } from '../constants.js';
import { globalsOf, makeUi } from '../ui/context.js';
import { addFlags, MESH_FLAGS, MESH_NAMESPACE_INSTEAD, refuseGlobals } from './flags.js';

/** `mesh uninstall [--purge]`. Handler: src/install/uninstall.ts. */
export function define(cmd: Command): void {
  addFlags(cmd, MESH_FLAGS.meshNamespace)
    .option('--purge', 'also delete the mesh CRDs and with them every AuthorizationPolicy, MTLSPolicy and TrafficPolicy (and the HTTPRoute CRD, with every HTTPRoute, if --gateway-api installed it)')
    .option('--dry-run', 'list what would be deleted; change nothing')
    .addHelpText('after', '\nExamples:\n  mesh uninstall\n  mesh uninstall --purge --yes')
    .action(async (raw: { purge?: boolean; dryRun?: boolean; meshNamespace?: string }, command: Command) => {
      const g = globalsOf(command);
      refuseGlobals(command, 'mesh uninstall', { namespace: MESH_NAMESPACE_INSTEAD, allNamespaces: MESH_NAMESPACE_INSTEAD });
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['table', 'json', 'yaml', 'name'] as const, 'table');
      if (raw.dryRun !== true) (await import('../ui/prompts.js')).requireConsent('mesh uninstall deletes the mesh from the cluster', ui);
      const { runUninstall } = await import('../install/uninstall.js');
      process.exitCode = await runUninstall({ namespace: raw.meshNamespace ?? DEFAULT_NAMESPACE, purge: raw.purge === true, dryRun: raw.dryRun === true, output, kubeconfig: g.kubeconfig, context: g.context }, ui);
    });
}
