import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';

/** `mesh stat (deploy|sts|ds|pod|svc|ns)[/NAME]`: traffic per workload from the proxies' stats. Handler: src/commands/stat-run.ts. */
export function define(cmd: Command): void {
  cmd
    .argument('[resource]', 'what to show: deploy, sts, ds, pod, svc or ns, optionally /NAME')
    .option('--window <duration>', 'range to read from Prometheus (with --prometheus-url); without it, the wait between the two pod scrapes', '1m')
    .option('--sample-interval <duration>', 'time between the two scrapes when reading pods directly (default 2s)')
    .option('--from <resource>', 'only traffic from this resource (measured at its proxies), e.g. deploy/web')
    .option('--to <resource>', 'only traffic to this resource (measured at the shown resource\'s proxies), e.g. svc/catalog')
    .option('-w, --watch', 'refresh in place every sample interval (Ctrl-C stops)')
    .option('--prometheus-url <url>', 'read from this Prometheus server instead of the pods, e.g. http://127.0.0.1:9090 (default: the installed mesh\'s metrics.prometheusUrl, else the pods)')
    .option('--concurrency <n>', 'pods scraped in parallel (default 64)')
    .addHelpText('after', '\nColumns: MESHED pods with a proxy/all, SUCCESS non-5xx share, RPS, LATENCY_P50/P95/P99, TCP_CONN open connections, MTLS share of connections.\nExamples:\n  mesh stat deploy -n shop\n  mesh stat ns -A\n  mesh stat deploy/web -n shop --to svc/catalog\n  mesh stat deploy -n shop --prometheus-url http://127.0.0.1:9090 --window 5m -o json')
    .action(async (resource: string | undefined, opts: { window?: string; sampleInterval?: string; from?: string; to?: string; watch?: boolean; prometheusUrl?: string; concurrency?: string }, command: Command) => {
      const g = globalsOf(command);
      const ui = makeUi(g);
      const [{ parseOutputFormat }, { validateStatOptions }, { runStat }, { withInterrupt }] = await Promise.all([import('../ui/format.js'), import('../status/stat.js'), import('./stat-run.js'), import('../util/interrupt.js')]);
      const output = parseOutputFormat(g.output, ['table', 'wide', 'json', 'yaml'] as const, 'table');
      const raw = {
        resource, namespace: g.namespace, allNamespaces: g.allNamespaces, window: opts.window, windowExplicit: command.getOptionValueSource('window') === 'cli',
        sampleInterval: opts.sampleInterval, from: opts.from, to: opts.to, watch: opts.watch === true, output, prometheusUrl: opts.prometheusUrl, concurrency: opts.concurrency,
      };
      const options = validateStatOptions(raw);
      const { connect } = await import('../cluster/index.js');
      const cluster = await connect({ kubeconfig: g.kubeconfig, context: g.context });
      // No flag: the installed mesh's metrics.prometheusUrl, when it names one (docs/observability.md),
      // looked up while runStat lists the workloads (the lists do not depend on it).
      const settled = opts.prometheusUrl === undefined
        ? import('../metrics/configured.js').then(async ({ configuredPrometheusUrl }) => {
            const configured = await configuredPrometheusUrl(cluster);
            return configured ? validateStatOptions({ ...raw, prometheusUrl: configured }) : options;
          })
        : undefined;
      // Nothing is awaited between here and runStat, which handles `settled`.
      // Only --watch stops cleanly on Ctrl-C; a one-shot read just ends.
      process.exitCode = await withInterrupt((signal) => runStat(options, ui, { cluster, signal }, settled), options.watch ? ['SIGINT'] : []);
    });
}
