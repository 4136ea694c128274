import type { Command } from 'commander';
import { DEFAULT_NAMESPACE } from '../constants.js';
import { globalsOf, makeUi } from '../ui/context.js';
import { addFlags, addValuesFlags, MESH_FLAGS, MESH_NAMESPACE_INSTEAD, refuseGlobals, valuesSets } from './flags.js';

/** `mesh upgrade [--rollback]`. Handler: src/install/upgrade.ts. */
export function define(cmd: Command): void {
  addFlags(addValuesFlags(cmd), MESH_FLAGS.meshNamespace)
    .option('--rollback', 'return to the values and version recorded before the last upgrade')
    .option('--reset-values', 'start from the profile defaults instead of the installed values')
    .option('--force', 'allow a downgrade to an older version')
    .option('--no-wait', 'do not wait for the control plane to become ready')
    .option('--timeout <duration>', 'how long to wait for CRDs and the rollout', '5m')
    .option('--force-conflicts', 'take over fields another field manager owns')
    .option('--take-over-crds', 'overwrite CRDs another tool (Helm, a controller) manages, and let mesh manage them')
    .option('--ca-cert <file>', 'replace the root CA with this certificate (PEM), even when the current one has expired; with --ca-key')
    .option('--ca-key <file>', 'private key (PEM) of --ca-cert')
    .option('--dry-run', 'print what would change (the diff and the objects upgrade would prune); change nothing')
    .addHelpText('after', '\nThe installed values are kept; -f and --set change them.\n\nExamples:\n  mesh upgrade\n  mesh upgrade --set controller.replicas=3 --yes\n  mesh upgrade --rollback\n  mesh upgrade --ca-cert new-root.pem --ca-key new-root-key.pem\n  mesh upgrade --set controller.replicas=3 --dry-run -o json')
    .action(async (raw: { profile?: string; values?: string[]; set?: string[]; addons?: string[]; rollback?: boolean; resetValues?: boolean; force?: boolean; wait?: boolean; timeout: string; forceConflicts?: boolean; takeOverCrds?: boolean; gatewayApi?: boolean; gatewayApiCrds?: string; dryRun?: boolean; meshNamespace?: string; caCert?: string; caKey?: string }, command: Command) => {
      const g = globalsOf(command);
      refuseGlobals(command, 'mesh upgrade', { namespace: MESH_NAMESPACE_INSTEAD, allNamespaces: MESH_NAMESPACE_INSTEAD });
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['table', 'json', 'yaml', 'name'] as const, 'table');
      const { parsePositiveDuration } = await import('../duration.js');
      const { runUpgrade, validateUpgradeOptions } = await import('../install/upgrade.js');
      const opts = {
        profile: raw.profile,
        files: raw.values,
        sets: await valuesSets({ set: raw.set, addons: raw.addons }, undefined),
        namespace: raw.meshNamespace ?? DEFAULT_NAMESPACE,
        rollback: raw.rollback === true,
        force: raw.force === true,
        resetValues: raw.resetValues === true,
        wait: raw.wait !== false,
        timeoutMs: parsePositiveDuration(raw.timeout, '--timeout'),
        forceConflicts: raw.forceConflicts === true,
        takeOverCrds: raw.takeOverCrds === true,
        gatewayApi: raw.gatewayApi === true || Boolean(raw.gatewayApiCrds),
        gatewayApiCrds: raw.gatewayApiCrds,
        dryRun: raw.dryRun === true,
        ...(raw.caCert !== undefined ? { caCert: raw.caCert } : {}),
        ...(raw.caKey !== undefined ? { caKey: raw.caKey } : {}),
        output,
        kubeconfig: g.kubeconfig,
        context: g.context,
      };
      validateUpgradeOptions(opts);
      if (!opts.dryRun) (await import('../ui/prompts.js')).requireConsent(`mesh upgrade${opts.rollback ? ' --rollback' : ''} changes the cluster`, ui);
      process.exitCode = await runUpgrade(opts, ui);
    });
}
