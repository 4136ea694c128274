import type { Cluster, ConnectOptions } from '../cluster/types.js';
import type { Source } from '../cluster/source.js';
import type { ControllerLocation } from '../status/controller-debug.js';
import { DashboardHub, type MetricsConfig } from './hub.js';
import { startDashboardServer, type DashboardServer, type ProxyConfigReader, type RouteAction } from './server.js';

/**
 * Wire a dashboard: the source (live: the API server, watched, with workloads and Gateways added to
 * the model's kinds; offline: the -f files, reloaded on change), the hub and the HTTP server.
 * Used by `mesh dashboard` (src/commands/dashboard-run.ts), the tests and the bench.
 */

/** Validated options of `mesh dashboard`. */
export interface DashboardOptions {
  /** Offline from these manifests; live when undefined. */
  /** Directories are read recursively, as `mesh proxy-config -f` reads them. */
  files?: string[];
  address: string;
  port: number;
  open: boolean;
  allowActions: boolean;
  prometheusUrl?: string;
  /** With Prometheus: the range read; with pod scrapes, the refresh interval is the window. */
  windowSeconds: number;
  refreshMs: number;
  concurrency: number;
  controller: ControllerLocation;
  /** -n: the namespace the page filters on first (all when undefined). */
  namespace?: string;
}

/** A running dashboard. */
export interface RunningDashboard {
  server: DashboardServer;
  hub: DashboardHub;
  /** The URL to open (with the token, and ?ns= for -n). */
  url: string;
  stop(): Promise<void>;
}

/** What startDashboard needs from outside (tests and the bench pass their own). */
export interface DashboardDeps {
  connect?: ConnectOptions;
  /** Live: a connected cluster (else connected from `connect`). */
  cluster?: Cluster;
  /** Replace the source (tests). */
  source?: Source;
  /** Where the built page is (tests build it into their own folder). */
  assetsDir?: string;
  token?: string;
  log?: (line: string) => void;
}

/** Start the hub and the server; stop() ends both. */
export async function startDashboard(opts: DashboardOptions, deps: DashboardDeps = {}): Promise<RunningDashboard> {
  let source = deps.source;
  let cluster = deps.cluster;
  if (opts.files) {
    if (!source) {
      const { FilesSource } = await import('../cluster/files-source.js');
      source = new FilesSource(opts.files, { recursive: true, watchFiles: true, ...(deps.log ? { log: deps.log } : {}) });
    }
  } else {
    cluster ??= await (await import('../cluster/index.js')).connect(deps.connect ?? {});
    if (!source) {
      const { KubernetesSource, WATCHED_KINDS } = await import('../cluster/live-source.js');
      const { DASHBOARD_WATCH_KINDS } = await import('./kinds.js');
      source = new KubernetesSource({ cluster, connect: deps.connect ?? {}, kinds: [...WATCHED_KINDS, ...DASHBOARD_WATCH_KINDS], ...(deps.log ? { log: deps.log } : {}) });
    }
  }
  const metrics: MetricsConfig | undefined = opts.files ? undefined : opts.prometheusUrl ? { kind: 'prometheus', url: opts.prometheusUrl, windowSeconds: opts.windowSeconds } : { kind: 'pods', concurrency: opts.concurrency };
  const hub = new DashboardHub({
    mode: opts.files ? 'offline' : 'live',
    source,
    ...(cluster ? { cluster, controller: opts.controller } : {}),
    ...(metrics ? { metrics } : {}),
    actions: opts.allowActions,
    refreshMs: opts.refreshMs,
    ...(deps.log ? { log: deps.log } : {}),
  });
  await hub.start();
  const proxyConfig: ProxyConfigReader = async (namespace, target) => {
    const { DEFAULT_CONTROLLER } = await import('../status/controller-debug.js');
    const { validateProxyConfigOptions, offlineDump, liveDump, proxyConfigData } = await import('../status/proxy-config.js');
    const o = validateProxyConfigOptions({ section: 'all', pod: target, namespace, output: 'json', ...(opts.files ? { files: opts.files } : {}), meshNamespace: opts.controller.meshNamespace, controllerPort: String(opts.controller.port) }, DEFAULT_CONTROLLER);
    const dump = opts.files ? await offlineDump(opts.files, o) : (await liveDump(cluster!, o)).dump;
    return proxyConfigData(dump, o.sections);
  };
  let action: RouteAction | undefined;
  if (opts.allowActions && cluster) {
    const live = cluster;
    action = async (which, namespace, name) => {
      const { finishRoute } = await import('../route/run.js');
      await finishRoute(which, { namespace, service: name, dryRun: false, output: 'json' }, { cluster: live }, () => undefined);
    };
  }
  const server = await startDashboardServer({
    hub, address: opts.address, port: opts.port, proxyConfig,
    ...(action ? { action } : {}),
    ...(deps.assetsDir ? { assetsDir: deps.assetsDir } : {}),
    ...(deps.token ? { token: deps.token } : {}),
  });
  const url = opts.namespace ? `${server.url}&ns=${encodeURIComponent(opts.namespace)}` : server.url;
  return {
    server, hub, url,
    stop: async () => {
      await server.close();
      await hub.stop();
      await source.stop();
    },
  };
}
