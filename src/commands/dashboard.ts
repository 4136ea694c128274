import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';
import { usageError } from '../errors.js';
import { INPUT_FLAGS, MESH_FLAGS, refuseGlobals } from './flags.js';

/** Flags of `mesh dashboard` as commander hands them over (the web dashboard's and the addons' port-forward's). */
export interface RawDashboardFlags {
  filename?: string[];
  address?: string;
  port?: string;
  open?: boolean;
  allowActions?: boolean;
  prometheusUrl?: string;
  window?: string;
  refresh?: string;
  concurrency?: string;
  meshNamespace?: string;
  controllerPort?: string;
  namespace?: string;
}

/** Flags only the web dashboard takes: with an addon name they are a usage error, not silently ignored. */
const WEB_ONLY: readonly (keyof RawDashboardFlags)[] = ['filename', 'allowActions', 'prometheusUrl', 'window', 'refresh', 'concurrency', 'controllerPort'];

/**
 * `mesh dashboard`: with no argument, the web dashboard (handler: src/commands/dashboard-run.ts);
 * with an addon name, a port-forward to that addon's UI (handler: src/commands/dashboard-addons.ts).
 */
export function define(cmd: Command): void {
  cmd
    .argument('[addon]', 'an addon UI to port-forward to instead: grafana, jaeger or prometheus')
    .addOption(INPUT_FLAGS.filename())
    .option('--address <ip>', 'interface to listen on (default 127.0.0.1; anything else is reachable by others: a warning is printed)')
    .option('--port <port>', 'local port (web dashboard default 0: a free port; an addon\'s default: its own port, e.g. 3000 for grafana)')
    .option('--no-open', 'do not open a browser (it opens only on an interactive terminal anyway)')
    .option('--allow-actions', 'web dashboard: offer promote/rollback buttons for canary routes (read-only without it)')
    .option('--prometheus-url <url>', 'web dashboard: read metrics from this Prometheus server instead of scraping the proxies through the API server')
    .option('--window <duration>', 'web dashboard, with --prometheus-url: the range each refresh reads (default 1m)')
    .option('--refresh <duration>', 'web dashboard: time between metric refreshes; scraping the proxies, the window of each reading (default 2s)')
    .option('--concurrency <n>', 'web dashboard: pods scraped in parallel (default 64)')
    .addOption(MESH_FLAGS.meshNamespace())
    .option('--controller-port <port>', 'port of the controller\'s /debug endpoints (default 15014)')
    .addHelpText('after', '\nWithout an addon: serves a local web page (service graph, canaries, proxies, findings, certificates, proxy config) with a random\naccess token in its URL; -n picks the namespace it shows first. With an addon: forwards a local port to the addon\'s Service in the\nmesh namespace (install it with mesh install --addons NAME). Either prints the URL, opens it on an interactive terminal, runs until Ctrl-C.\nExamples:\n  mesh dashboard\n  mesh dashboard -n shop --prometheus-url http://127.0.0.1:9090\n  mesh dashboard -f examples/shop --no-open     # offline: topology, routes, policies, computed proxy config\n  mesh dashboard --allow-actions                # promote/rollback buttons (with a confirmation)\n  mesh dashboard grafana\n  mesh dashboard jaeger --port 16686')
    .action(async (addon: string | undefined, opts: RawDashboardFlags, command: Command) => {
      const g = globalsOf(command);
      if (addon !== undefined) return addonDashboard(addon, opts, command);
      refuseGlobals(command, 'mesh dashboard', { allNamespaces: { why: 'the page shows every namespace and filters by one', hint: 'drop -A; use -n NS to pick the namespace shown first' } });
      // It serves a page (its data is JSON at /api/data): -o is refused as by every command that prints no data.
      const { refuseOutputFormat } = await import('../ui/format.js');
      refuseOutputFormat(g.output);
      const ui = makeUi(g);
      const { validateDashboardOptions, runDashboard } = await import('./dashboard-run.js');
      const options = await validateDashboardOptions({ ...opts, namespace: g.namespace });
      process.exitCode = await runDashboard(options, ui, { connect: { kubeconfig: g.kubeconfig, context: g.context } });
    });
}

/** `mesh dashboard ADDON`: the port-forward to an addon's UI. */
async function addonDashboard(addon: string, opts: RawDashboardFlags, command: Command): Promise<void> {
  const g = globalsOf(command);
  refuseGlobals(command, 'mesh dashboard', { namespace: { why: 'the addons run in the mesh namespace', hint: 'use --mesh-namespace NS when the mesh is not in mesh-system' }, allNamespaces: { why: 'the addons run in the mesh namespace', hint: 'drop -A' } });
  if (g.output !== undefined) throw usageError('mesh dashboard does not take -o: it forwards a web UI', 'the URL is printed on stdout');
  const web = WEB_ONLY.filter((k) => opts[k] !== undefined);
  if (web.length) throw usageError(`mesh dashboard ${addon} does not take ${web.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}: those are the web dashboard's`, 'drop the addon name for the web dashboard (mesh dashboard), or drop those flags');
  const ui = makeUi(g);
  const { validateAddonDashboardOptions, runAddonDashboard } = await import('./dashboard-addons.js');
  const options = validateAddonDashboardOptions({ addon, address: opts.address, port: opts.port, open: opts.open, meshNamespace: opts.meshNamespace });
  const { connect } = await import('../cluster/index.js');
  const cluster = await connect({ kubeconfig: g.kubeconfig, context: g.context });
  const { withInterrupt } = await import('../util/interrupt.js');
  process.exitCode = await withInterrupt((signal) => runAddonDashboard(options, ui, { cluster, signal }), ['SIGINT', 'SIGTERM']);
}
