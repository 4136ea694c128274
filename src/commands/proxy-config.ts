import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';
import { INPUT_FLAGS, MESH_FLAGS, refuseGlobals } from './flags.js';

/** `mesh proxy-config (cluster|listener|route|endpoint|secret|all) POD`: the config a proxy holds. Handler: src/status/proxy-config.ts. */
export function define(cmd: Command): void {
  cmd
    .argument('[section]', 'cluster, listener, route, endpoint, secret or all')
    .argument('[pod]', 'the pod: NAME, NAME.NAMESPACE or TYPE/NAME (pod/, deploy/, sts/, ds/; a workload stands for its first running pod, offline for its pod template)')
    .addOption(INPUT_FLAGS.filename())
    .addOption(MESH_FLAGS.meshNamespace())
    .option('--controller-port <port>', 'port of the controller\'s /debug endpoints (default 15014)')
    .addHelpText('after', '\nSecrets show certificate metadata only (subject, SPIFFE ID, expiry), never key material.\nWith -f (directories are read recursively), the config is computed offline with the controller\'s translation.\nExamples:\n  mesh proxy-config cluster web-5d9f7 -n shop\n  mesh proxy-config all web.shop -o json\n  mesh proxy-config route web -n shop -f ./k8s/   # offline, no cluster')
    .action(async (section: string | undefined, pod: string | undefined, opts: { filename?: string[]; meshNamespace?: string; controllerPort?: string }, command: Command) => {
      const g = globalsOf(command);
      refuseGlobals(command, 'mesh proxy-config', { allNamespaces: { why: 'it shows the config of one proxy', hint: 'name the pod with -n NAMESPACE or POD.NAMESPACE' } });
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['table', 'json', 'yaml'] as const, 'table');
      const { DEFAULT_CONTROLLER } = await import('../status/controller-debug.js');
      const { validateProxyConfigOptions, runProxyConfig } = await import('../status/proxy-config.js');
      const options = validateProxyConfigOptions({ section, pod, namespace: g.namespace, files: opts.filename, output, meshNamespace: opts.meshNamespace, controllerPort: opts.controllerPort }, DEFAULT_CONTROLLER);
      const connect = async () => (await import('../cluster/index.js')).connect({ kubeconfig: g.kubeconfig, context: g.context });
      process.exitCode = await runProxyConfig(options, ui, connect);
    });
}
