import { createServer, isIP, type Server, type Socket } from 'node:net';
import { DEFAULT_NAMESPACE } from '../constants.js';
import type { Cluster, KubeObject } from '../cluster/types.js';
import { ExitCode, MeshError, usageError } from '../errors.js';
import { ADDON_UI, checkAddonName, type AddonName } from '../manifests/addons.js';
import { isRunning, podSelectorOf } from '../status/workloads.js';
import { labelSelectorMatches } from '../util/labels.js';
import type { Ui } from '../ui/context.js';

/**
 * `mesh dashboard grafana|jaeger|prometheus`: find a ready pod behind the addon's Service in the
 * mesh namespace, listen on a local port, and tunnel each connection to the pod through the API
 * server's portforward (as `kubectl port-forward svc/NAME` and `istioctl dashboard` do).
 */

/** Validated options. */
export interface AddonDashboardOptions {
  addon: AddonName;
  meshNamespace: string;
  address: string;
  /** Local port; 0 picks a free one. */
  port: number;
  /** Open a browser (only ever on an interactive terminal). */
  open: boolean;
}

/** Validate the flags (exit 2 on bad input; an unknown addon names itself). */
export function validateAddonDashboardOptions(raw: { addon: string; address?: string; port?: string; open?: boolean; meshNamespace?: string }): AddonDashboardOptions {
  const addon = checkAddonName(raw.addon, 'mesh dashboard');
  const address = raw.address ?? '127.0.0.1';
  if (isIP(address) === 0) throw usageError(`--address ${address} is not an IP address`, 'e.g. --address 127.0.0.1 (the default)');
  const port = raw.port === undefined ? ADDON_UI[addon].port : Number(raw.port);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError(`--port ${raw.port} must be a whole number from 0 to 65535`, '0 picks a free port');
  return { addon, meshNamespace: raw.meshNamespace ?? DEFAULT_NAMESPACE, address, port, open: raw.open !== false };
}

/** Where connections go: a ready pod of the addon and its container port, and the page to open. */
export interface ForwardTarget {
  namespace: string;
  service: string;
  pod: string;
  port: number;
  path: string;
}

function isReady(pod: KubeObject): boolean {
  const conditions = ((pod.status ?? {}) as { conditions?: { type: string; status: string }[] }).conditions ?? [];
  return isRunning(pod) && pod.metadata.deletionTimestamp === undefined && conditions.some((c) => c.type === 'Ready' && c.status === 'True');
}

/**
 * Resolve the addon's Service port to a ready pod and container port (a named targetPort is looked
 * up in the pod's containers, as the Service does). Errors: the Service missing means the addon is
 * not installed (hint: mesh install --addons NAME); no ready pod, or a port no container has.
 */
export async function resolveAddonTarget(cluster: Cluster, namespace: string, addon: AddonName): Promise<ForwardTarget> {
  const ui = ADDON_UI[addon];
  const svc = await cluster.get('v1', 'Service', ui.service, namespace);
  if (!svc) throw new MeshError(`the ${addon} addon is not installed: no Service ${namespace}/${ui.service}`, { hint: `mesh install --addons ${addon} (or mesh upgrade --addons ${addon}); --mesh-namespace if the mesh is elsewhere`, exitCode: ExitCode.Failed });
  const ports = ((svc.spec ?? {}) as { ports?: { port: number; targetPort?: number | string }[] }).ports ?? [];
  const sp = ports.find((p) => p.port === ui.port);
  if (!sp) throw new MeshError(`Service ${namespace}/${ui.service} has no port ${ui.port}`, { hint: `it was changed by hand? re-apply it with mesh upgrade --addons ${addon}`, exitCode: ExitCode.Failed });
  const selector = podSelectorOf(svc);
  const pods = selector ? (await cluster.list('v1', 'Pod', { namespace })).filter((p) => labelSelectorMatches(selector, p.metadata.labels ?? {})) : [];
  const ready = pods.filter(isReady).sort((a, b) => a.metadata.name.localeCompare(b.metadata.name));
  const pod = ready[0];
  if (!pod) throw new MeshError(`no ready pod of the ${addon} addon in ${namespace} (${pods.length} pod(s) selected by Service ${ui.service})`, { hint: `kubectl -n ${namespace} get pods -l ${Object.entries(selector?.matchLabels ?? {}).map(([k, v]) => `${k}=${v}`).join(',')}; mesh check`, exitCode: ExitCode.Failed });
  const target = sp.targetPort ?? sp.port;
  let port: number | undefined = typeof target === 'number' ? target : /^\d+$/.test(target) ? Number(target) : undefined;
  if (port === undefined) {
    const containers = ((pod.spec ?? {}) as { containers?: { ports?: { name?: string; containerPort: number }[] }[] }).containers ?? [];
    port = containers.flatMap((c) => c.ports ?? []).find((p) => p.name === target)?.containerPort;
  }
  if (port === undefined) throw new MeshError(`pod ${namespace}/${pod.metadata.name} has no container port named "${String(target)}" (Service ${ui.service} targets it)`, { hint: `mesh upgrade --addons ${addon} re-renders both`, exitCode: ExitCode.Failed });
  return { namespace, service: ui.service, pod: pod.metadata.name, port, path: ui.path };
}

/** What the run needs from outside: the cluster, Ctrl-C, and how to open a browser (tests replace it). */
export interface AddonDashboardDeps {
  cluster: Cluster;
  signal: AbortSignal;
  openBrowser?: (url: string) => void;
  /** Called once the local port listens (tests connect through it). */
  onListening?: (url: string) => void;
}

function listen(server: Server, port: number, address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, address, () => {
      server.off('error', reject);
      resolve((server.address() as { port: number }).port);
    });
  });
}

/**
 * Forward until `deps.signal` aborts (Ctrl-C): print the URL on stdout, open it on an interactive
 * terminal, tunnel each local connection to the resolved pod. A connection whose tunnel fails is
 * closed and the reason printed; the forward keeps serving others.
 */
export async function runAddonDashboard(opts: AddonDashboardOptions, ui: Ui, deps: AddonDashboardDeps): Promise<number> {
  const { cluster } = deps;
  if (!cluster.portForward) throw new MeshError(`this cluster connection (${cluster.contextName}) cannot port-forward`, { hint: 'run against a live cluster (--context)' });
  const forward = cluster.portForward.bind(cluster);
  const target = await resolveAddonTarget(cluster, opts.meshNamespace, opts.addon);
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    forward({ namespace: target.namespace, pod: target.pod, port: target.port }, socket).catch((err: unknown) => {
      ui.err.write(`${err instanceof Error ? err.message : String(err)}\n`);
      socket.destroy();
    });
  });
  let port: number;
  try {
    port = await listen(server, opts.port, opts.address);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw usageError(`cannot listen on ${opts.address}:${opts.port}: ${code === 'EADDRINUSE' ? 'the port is in use' : (err as Error).message}`, code === 'EADDRINUSE' ? `pick another with --port, or --port 0 for a free one` : 'check --address');
  }
  const host = opts.address.includes(':') ? `[${opts.address}]` : opts.address;
  const url = `http://${host}:${port}${target.path}`;
  if (!opts.address.startsWith('127.') && opts.address !== '::1') ui.err.write(ui.color.yellow(`warning: listening on ${opts.address}: anyone who can reach this address gets the ${opts.addon} UI`) + '\n');
  ui.err.write(ui.color.dim(`forwarding ${opts.address}:${port} -> pod ${target.namespace}/${target.pod}:${target.port} (Service ${target.service}); Ctrl-C stops it`) + '\n');
  ui.out.write(`${url}\n`);
  if (opts.open && ui.interactive) (deps.openBrowser ?? (await import('../ui/browser.js')).openBrowser)(url);
  deps.onListening?.(url);
  await new Promise<void>((resolve) => {
    if (deps.signal.aborted) return resolve();
    deps.signal.addEventListener('abort', () => resolve(), { once: true });
  });
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return ExitCode.Ok;
}
