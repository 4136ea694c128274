import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';
import { usageError } from '../errors.js';
import { MESH_FLAGS, refuseGlobals } from './flags.js';

/** `mesh dashboard grafana|jaeger|prometheus`: port-forward to an addon's UI. Handler: src/commands/dashboard-addons.ts. */
export function define(cmd: Command): void {
  cmd
    .argument('[addon]', 'an addon UI to port-forward to: grafana, jaeger or prometheus')
    .option('--address <ip>', 'interface to listen on (default 127.0.0.1; anything else is reachable by others: a warning is printed)')
    .option('--port <port>', 'local port (default: the addon\'s own port, e.g. 3000 for grafana; 0: a free port)')
    .option('--no-open', 'do not open a browser (it opens only on an interactive terminal anyway)')
    .addOption(MESH_FLAGS.meshNamespace())
    .addHelpText('after', '\nForwards a local port to the addon\'s Service in the mesh namespace (like kubectl port-forward) until Ctrl-C,\nprints the URL and opens it in a browser on an interactive terminal. Install the addons with mesh install --addons NAME.\nExamples:\n  mesh dashboard grafana\n  mesh dashboard jaeger --port 16686\n  mesh dashboard prometheus --no-open    # then: mesh stat deploy -n shop --prometheus-url http://127.0.0.1:9090')
    .action(async (addon: string | undefined, opts: { address?: string; port?: string; open?: boolean; meshNamespace?: string }, command: Command) => {
      const g = globalsOf(command);
      refuseGlobals(command, 'mesh dashboard', { namespace: { why: 'the addons run in the mesh namespace', hint: 'use --mesh-namespace NS when the mesh is not in mesh-system' }, allNamespaces: { why: 'the addons run in the mesh namespace', hint: 'drop -A' } });
      if (g.output !== undefined) throw usageError('mesh dashboard does not take -o: it forwards a web UI', 'the URL is printed on stdout');
      if (addon === undefined) throw usageError('mesh dashboard without an addon: the web dashboard is not built in this branch', 'name an addon: mesh dashboard grafana|jaeger|prometheus');
      const ui = makeUi(g);
      const { validateAddonDashboardOptions, runAddonDashboard } = await import('./dashboard-addons.js');
      const options = validateAddonDashboardOptions({ addon, ...opts });
      const { connect } = await import('../cluster/index.js');
      const cluster = await connect({ kubeconfig: g.kubeconfig, context: g.context });
      const { withInterrupt } = await import('../util/interrupt.js');
      process.exitCode = await withInterrupt((signal) => runAddonDashboard(options, ui, { cluster, signal }), ['SIGINT', 'SIGTERM']);
    });
}
