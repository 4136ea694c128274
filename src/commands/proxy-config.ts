import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';
import { INPUT_FLAGS, MESH_FLAGS, refuseGlobals } from './flags.js';

/** `mesh proxy-config (cluster|listener|route|endpoint|secret|all|diff|log) POD`: the config a proxy holds, its drift, its log levels. Handler: src/status/proxy-config.ts. */
export function define(cmd: Command): void {
  cmd
    .argument('[section]', 'cluster, listener, route, endpoint, secret, all (-o json|yaml: Envoy\'s /config_dump), diff (proxy vs control plane) or log (proxy log levels)')
    .argument('[pod]', 'the pod: NAME, NAME.NAMESPACE or TYPE/NAME (pod/, deploy/, sts/, ds/; a workload stands for its first running pod, offline for its pod template)')
    .addOption(INPUT_FLAGS.filename())
    .addOption(MESH_FLAGS.meshNamespace())
    .option('--controller-port <port>', 'port of the controller\'s /debug endpoints (default 15014)')
    .option('--from <file>', 'diff: a saved Envoy /config_dump (JSON or YAML) instead of the live proxy\'s')
    .option('--level <level>', 'log: set every logger to trace, debug, info, warning, error, critical or off')
    .option('--logger <name=level>', 'log: set one logger (repeatable), e.g. --logger http=debug', (v: string, prev: string[] = []) => [...prev, v])
    .addHelpText('after', '\nSecrets show certificate metadata only (subject, SPIFFE ID, expiry), never key material.\nWith -f (directories are read recursively), the config is computed offline with the controller\'s translation.\nall -o json|yaml prints an envoy.admin.v3.ConfigDump, as the proxy\'s own /config_dump?include_eds.\ndiff compares the proxy\'s /config_dump (through a port-forward to its admin port) with what the control plane would send now: exit 0 same, 1 differs.\nExamples:\n  mesh proxy-config cluster web-5d9f7 -n shop\n  mesh proxy-config all web.shop -o json\n  mesh proxy-config route web -n shop -f ./k8s/   # offline, no cluster\n  mesh proxy-config diff deploy/web -n shop\n  mesh proxy-config diff web -n shop -f ./k8s/ --from dump.json   # offline\n  mesh proxy-config log web-5d9f7 -n shop --level debug --logger upstream=trace')
    .action(async (section: string | undefined, pod: string | undefined, opts: { filename?: string[]; meshNamespace?: string; controllerPort?: string; from?: string; level?: string; logger?: string[] }, command: Command) => {
      const g = globalsOf(command);
      refuseGlobals(command, 'mesh proxy-config', { allNamespaces: { why: 'it shows the config of one proxy', hint: 'name the pod with -n NAMESPACE or POD.NAMESPACE' } });
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['table', 'json', 'yaml'] as const, 'table');
      const { DEFAULT_CONTROLLER } = await import('../status/controller-debug.js');
      const { validateProxyConfigOptions, runProxyConfig } = await import('../status/proxy-config.js');
      const options = validateProxyConfigOptions({ section, pod, namespace: g.namespace, files: opts.filename, output, meshNamespace: opts.meshNamespace, controllerPort: opts.controllerPort, from: opts.from, level: opts.level, logger: opts.logger }, DEFAULT_CONTROLLER);
      const connect = async () => (await import('../cluster/index.js')).connect({ kubeconfig: g.kubeconfig, context: g.context });
      process.exitCode = await runProxyConfig(options, ui, connect);
    });
}
