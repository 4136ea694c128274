import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';

/** `mesh edges (deploy|sts|ds|pod|svc|ns)`: who talks to whom, with mTLS identities. Handler: src/status/edges.ts. */
export function define(cmd: Command): void {
  cmd
    .argument('[kind]', 'deploy, sts, ds, pod, svc or ns')
    .option('--trust-domain <domain>', 'SPIFFE trust domain of the identities shown (default cluster.local)')
    .option('--prometheus-url <url>', 'read the proxies\' counters from this Prometheus server instead of the pods (default: the installed mesh\'s metrics.prometheusUrl, else the pods)')
    .addHelpText('after', '\nCounts are since each client proxy started (one scrape of every meshed pod through the API server, or Prometheus\'s latest samples with --prometheus-url).\nExamples:\n  mesh edges deploy -n shop\n  mesh edges deploy -A -o wide')
    .action(async (kind: string | undefined, opts: { trustDomain?: string; prometheusUrl?: string }, command: Command) => {
      const g = globalsOf(command);
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['table', 'wide', 'json', 'yaml'] as const, 'table');
      const { validateEdgesOptions, runEdges } = await import('../status/edges.js');
      const raw = { resource: kind, namespace: g.namespace, allNamespaces: g.allNamespaces, output, trustDomain: opts.trustDomain, prometheusUrl: opts.prometheusUrl };
      let options = validateEdgesOptions(raw);
      const { connect } = await import('../cluster/index.js');
      const cluster = await connect({ kubeconfig: g.kubeconfig, context: g.context });
      // No flag: the installed mesh's metrics.prometheusUrl, when it names one (docs/observability.md).
      if (opts.prometheusUrl === undefined) {
        const configured = await (await import('../metrics/configured.js')).configuredPrometheusUrl(cluster);
        if (configured) options = validateEdgesOptions({ ...raw, prometheusUrl: configured });
      }
      process.exitCode = await runEdges(options, ui, cluster);
    });
}
