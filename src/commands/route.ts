import type { Command } from 'commander';
import { globalsOf, makeUi, type GlobalOptions } from '../ui/context.js';
import type { RawCanaryFlags } from '../route/options.js';
import type { RouteCommon, RouteDeps } from '../route/run.js';
import type { Cluster } from '../cluster/types.js';
import { usageError } from '../errors.js';
import { collect, INPUT_FLAGS, refuseGlobals } from './flags.js';

/** -f/-R and --dry-run of the route commands that write: with -f they read manifests, not a cluster. */
interface OfflineFlags {
  filename?: string[];
  recursive?: boolean;
  dryRun?: boolean;
}

/** The offline flags among a command's parsed flags. */
function offlineOf(flags: object): OfflineFlags {
  const f = flags as OfflineFlags;
  return { filename: f.filename, recursive: f.recursive, dryRun: f.dryRun };
}

/** The cluster a route command reads: the live one, or (with -f, only with --dry-run) the manifests given. */
async function routeCluster(g: GlobalOptions, offline: OfflineFlags | undefined): Promise<Cluster> {
  if (offline?.filename?.length) {
    if (!offline.dryRun) throw usageError('-f reads manifests instead of a cluster, so it needs --dry-run', 'add --dry-run to print the HTTPRoute (e.g. mesh route canary web --canary web-v2 --weight 10 -f k8s/ --dry-run -o yaml)');
    const [{ loadObjects }, { offlineCluster }] = await Promise.all([import('../cluster/files.js'), import('../cluster/offline.js')]);
    const objects = (await loadObjects(offline.filename, { recursive: offline.recursive === true })).map((l) => l.object);
    return offlineCluster(objects, g.namespace ?? 'default', offline.filename.join(', '));
  }
  const { connect } = await import('../cluster/index.js');
  return connect({ kubeconfig: g.kubeconfig, context: g.context });
}

/** Connect (or read -f), resolve the namespace and output format, wire Ctrl-C, and run one route handler. */
async function withRoute(command: Command, prometheusUrl: string | undefined, fn: (common: RouteCommon, deps: RouteDeps, ui: ReturnType<typeof makeUi>) => Promise<number>, offline?: OfflineFlags): Promise<void> {
  const g: GlobalOptions = globalsOf(command);
  refuseGlobals(command, `mesh route ${command.name()}`, { allNamespaces: { why: 'a route belongs to one Service in one namespace', hint: 'use -n NAMESPACE' } });
  const ui = makeUi(g);
  const { parseOutputFormat } = await import('../ui/format.js');
  const output = parseOutputFormat(g.output, ['table', 'json', 'yaml'] as const, 'table');
  const cluster = await routeCluster(g, offline);
  const deps: RouteDeps = { cluster };
  // No flag: the installed mesh's metrics.prometheusUrl, when it names one (docs/observability.md).
  prometheusUrl ??= await (await import('../metrics/configured.js')).configuredPrometheusUrl(cluster);
  if (prometheusUrl) {
    const { PrometheusMetrics } = await import('../route/metrics.js');
    deps.metrics = new PrometheusMetrics(prometheusUrl);
  }
  // Ctrl-C stops a rollout or watch at its next wait in a recorded state; a second Ctrl-C kills.
  const { withInterrupt } = await import('../util/interrupt.js');
  process.exitCode = await withInterrupt((signal) => fn({ namespace: g.namespace ?? cluster.defaultNamespace ?? 'default', output }, { ...deps, signal }, ui));
}

/** `mesh route canary|set|show|promote|rollback|status`. Operations live in src/route/run.ts; src/commands/route-run.ts prints their events. */
export function define(cmd: Command): void {
  cmd.description('Canary releases, traffic shifting and resilience policy with Gateway API HTTPRoutes (see docs/routing.md)');

  cmd
    .command('canary <service>')
    .description('Split SERVICE\'s traffic between its stable backend and a canary Service; with --steps, roll out progressively and roll back by itself')
    .option('--canary <svc>', 'the new version\'s Service (required)')
    .option('--stable <svc>', 'the stable version\'s Service (default: SERVICE itself, or what the route already names)')
    .option('--weight <percent>', 'percent of traffic to the canary (0..100)')
    .option('--port <port>', 'the Service port to route, when the Service has several')
    .option('--steps <list>', 'progressive rollout weights, e.g. 5,25,50,100')
    .option('--interval <duration>', 'time at each step before the gates are judged (default 1m)')
    .option('--max-error-rate <percent>', 'roll back when the canary\'s error rate exceeds this, e.g. 1%')
    .option('--max-p99 <duration>', 'roll back when the canary\'s p99 latency exceeds this, e.g. 300ms')
    .option('--prometheus-url <url>', 'Prometheus HTTP API the gates read Envoy metrics from')
    .option('--match-header <name=value>', 'requests with this header always go to the canary (repeatable)', collect)
    .option('--match-path <path>', 'split only this path prefix (=/path for an exact path); other paths stay on stable')
    .option('--timeout <duration>', 'request timeout (HTTPRoute timeouts.request)')
    .option('--retries <n>', 'retries after the first try (mesh.dev/retry annotation)')
    .option('--per-try-timeout <duration>', 'timeout of each try (with --retries)')
    .option('--retry-on <conditions>', 'comma-separated retry conditions, e.g. 5xx,reset,unavailable (with --retries)')
    .option('--fault-delay <duration>', 'inject this delay (mesh.dev/fault annotation)')
    .option('--fault-delay-percent <percent>', 'percent of requests delayed (default 100)')
    .option('--fault-abort <status>', 'inject this HTTP status instead of calling the backend')
    .option('--fault-abort-percent <percent>', 'percent of requests aborted (default 100)')
    .option('--mirror <svc>', 'copy split traffic to this Service (RequestMirror); its responses are ignored')
    .option('--dry-run', 'print the HTTPRoute instead of applying it (with -f: no cluster needed)')
    .addOption(INPUT_FLAGS.filename())
    .addOption(INPUT_FLAGS.recursive())
    .addHelpText('after', '\nExamples:\n  mesh route canary web --canary web-v2 --weight 10 -n shop\n  mesh route canary web --canary web-v2 --steps 5,25,50,100 --interval 1m --max-error-rate 1% --max-p99 300ms --prometheus-url http://localhost:9090\n  mesh route canary web --canary web-v2 --weight 0 --match-header x-canary=true --dry-run -o yaml\n  mesh route canary web --canary web-v2 --weight 10 -n shop -f k8s/ --dry-run -o yaml   # no cluster: from manifests on disk')
    .action(async (service: string, flags: RawCanaryFlags, command: Command) => {
      const { validateCanaryOptions } = await import('../route/options.js');
      const opts = validateCanaryOptions(service, flags);
      await withRoute(command, opts.prometheusUrl, async (common, deps, ui) => (await import('./route-run.js')).runCanary({ ...opts, ...common }, ui, deps), offlineOf(flags));
    });

  cmd
    .command('set <service> <backend=weight...>')
    .description('Set the weights of SERVICE\'s route (percent, summing to 100; backends not listed get 0)')
    .option('--dry-run', 'print the HTTPRoute instead of applying it (with -f: no cluster needed)')
    .addOption(INPUT_FLAGS.filename())
    .addOption(INPUT_FLAGS.recursive())
    .addHelpText('after', '\nExamples:\n  mesh route set web web=80 web-v2=20 -n shop')
    .action(async (service: string, pairs: string[], flags: OfflineFlags, command: Command) => {
      const { parseBackendWeights, parseServiceName } = await import('../route/parse.js');
      const svc = parseServiceName('SERVICE', service);
      const weights = parseBackendWeights(pairs);
      await withRoute(command, undefined, async (common, deps, ui) => (await import('./route-run.js')).runSet({ ...common, service: svc, weights, dryRun: flags.dryRun === true }, ui, deps), flags);
    });

  cmd
    .command('show <service>')
    .description('Show SERVICE\'s route: rules, matches, weights, policy, and live traffic per backend with --prometheus-url')
    .option('--prometheus-url <url>', 'Prometheus HTTP API to read requests/s, success rate and p99 from')
    .addHelpText('after', '\nExamples:\n  mesh route show web -n shop --prometheus-url http://localhost:9090\n  mesh route show web -o json')
    .action(async (service: string, flags: { prometheusUrl?: string }, command: Command) => {
      const { parseServiceName } = await import('../route/parse.js');
      const svc = parseServiceName('SERVICE', service);
      await withRoute(command, flags.prometheusUrl, async (common, deps, ui) => (await import('./route-run.js')).runShow({ ...common, service: svc }, ui, deps));
    });

  for (const which of ['promote', 'rollback'] as const) {
    cmd
      .command(`${which} <service>`)
      .description(which === 'promote' ? 'Send all of SERVICE\'s traffic to the canary' : 'Send all of SERVICE\'s traffic back to the stable backend')
      .option('--dry-run', 'print the HTTPRoute instead of applying it (with -f: no cluster needed)')
      .addOption(INPUT_FLAGS.filename())
      .addOption(INPUT_FLAGS.recursive())
      .addHelpText('after', `\nExamples:\n  mesh route ${which} web -n shop\n  mesh route ${which} web -n shop -f k8s/ --dry-run -o yaml   # no cluster: from the route on disk`)
      .action(async (service: string, flags: OfflineFlags, command: Command) => {
        const { parseServiceName } = await import('../route/parse.js');
        const svc = parseServiceName('SERVICE', service);
        await withRoute(command, undefined, async (common, deps, ui) => (await import('./route-run.js')).runFinish(which, { ...common, service: svc, dryRun: flags.dryRun === true }, ui, deps), flags);
      });
  }

  cmd
    .command('status <service>')
    .description('Show the rollout of SERVICE; with --watch, wait and exit 0 when promoted, 1 when rolled back, paused or degraded')
    .option('-w, --watch', 'wait for the rollout to finish')
    .option('--watch-timeout <duration>', 'with --watch, give up (exit 1) after this long')
    .addHelpText('after', '\nExamples:\n  mesh route status web -n shop\n  mesh route status web --watch --watch-timeout 30m   # in CI')
    .action(async (service: string, flags: { watch?: boolean; watchTimeout?: string }, command: Command) => {
      const { parseServiceName } = await import('../route/parse.js');
      const { parseDuration } = await import('../duration.js');
      const svc = parseServiceName('SERVICE', service);
      const watchTimeoutMs = flags.watchTimeout !== undefined ? parseDuration(flags.watchTimeout, '--watch-timeout') : undefined;
      await withRoute(command, undefined, async (common, deps, ui) =>
        (await import('./route-run.js')).runStatus({ ...common, service: svc, watch: flags.watch === true, ...(watchTimeoutMs !== undefined ? { watchTimeoutMs } : {}) }, ui, deps),
      );
    });
}
