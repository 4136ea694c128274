import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';
import { addFlags, addValuesFlags, MESH_FLAGS, MESH_NAMESPACE_INSTEAD, refuseGlobals, valuesSets, type RawValuesFlags } from './flags.js';

/** `mesh install`. Handler: src/install/install.ts. */
export function define(cmd: Command): void {
  addFlags(addValuesFlags(cmd), MESH_FLAGS.meshNamespace, MESH_FLAGS.gatewayApi, MESH_FLAGS.gatewayApiCrds)
    .option('--ca-cert <file>', 'use this root CA certificate (PEM) instead of generating one; with --ca-key')
    .option('--ca-key <file>', 'private key (PEM) of --ca-cert')
    .option('--skip-checks', 'do not run the pre-install checks')
    .option('--dry-run', 'print what would be applied; change nothing')
    .option('--no-wait', 'do not wait for the control plane to become ready')
    .option('--timeout <duration>', 'how long to wait for CRDs and the rollout', '5m')
    .option('--force-conflicts', 'take over fields another field manager owns')
    .addHelpText('after', '\nExamples:\n  mesh install\n  mesh install --profile ha --set controller.logLevel=debug --yes\n  mesh install --gateway-api --yes\n  mesh install --gateway-api-crds standard-install.yaml --yes\n  mesh install --addons prometheus,grafana,jaeger --yes\n  mesh install --dry-run > mesh.yaml\n  mesh install --ca-cert root.pem --ca-key root-key.pem')
    .action(async (raw: Record<string, unknown>, command: Command) => {
      const g = globalsOf(command);
      refuseGlobals(command, 'mesh install', { namespace: MESH_NAMESPACE_INSTEAD, allNamespaces: MESH_NAMESPACE_INSTEAD });
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['table', 'json', 'yaml', 'name'] as const, 'table');
      const { runInstall, validateInstallOptions } = await import('../install/install.js');
      const opts = validateInstallOptions({ ...raw, set: await valuesSets(raw as RawValuesFlags, raw.meshNamespace as string | undefined) }, output, { kubeconfig: g.kubeconfig, context: g.context });
      if (raw.dryRun !== true) (await import('../ui/prompts.js')).requireConsent('mesh install changes the cluster', ui);
      process.exitCode = await runInstall(opts, ui);
    });
}
