import type { Command } from 'commander';

/**
 * A top-level command. `load` imports the command's module only when that command runs (or when
 * completion needs every flag), so `mesh --help` stays fast and loads no cluster or gRPC code.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  /** Left out of help and completion (helpers the completion scripts call). */
  hidden?: boolean;
  /** The module's `define` adds options, subcommands and the action to `cmd`. */
  load: () => Promise<{ define(cmd: Command): void }>;
}

/** Every top-level command, in the order `mesh --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'install', summary: 'Install the mesh control plane into the cluster', load: () => import('./install.js') },
  { name: 'upgrade', summary: 'Upgrade (or --rollback) the installed mesh, showing the diff first', load: () => import('./upgrade.js') },
  { name: 'uninstall', summary: 'Remove the mesh control plane (CRDs and policies stay unless --purge)', load: () => import('./uninstall.js') },
  { name: 'manifest', summary: 'Print (generate) or compare (diff) the control-plane manifests', load: () => import('./manifest.js') },
  { name: 'profile', summary: 'List the values profiles or show one', load: () => import('./profile.js') },
  { name: 'check', summary: 'Check the cluster (--pre), the installed mesh, or manifests (-f) for problems', load: () => import('./check.js') },
  { name: 'inject', summary: 'Add the mesh sidecar to workloads in YAML or JSON (offline)', load: () => import('./inject.js') },
  { name: 'uninject', summary: 'Remove the mesh sidecar that inject added', load: () => import('./uninject.js') },
  { name: 'route', summary: 'Canary releases, traffic shifting, retries, timeouts and fault injection', load: () => import('./route.js') },
  { name: 'stat', summary: 'Show traffic per workload: requests/s, success, latency, connections, mTLS', load: () => import('./stat.js') },
  { name: 'edges', summary: 'Show who talks to whom, with the mTLS identities on each side', load: () => import('./edges.js') },
  { name: 'dashboard', summary: 'Serve the mesh web dashboard (live or offline with -f), or open an addon\'s UI (grafana, jaeger, prometheus) through a port-forward', load: () => import('./dashboard.js') },
  { name: 'authz', summary: 'Explain authorization: may FROM call TO (check), who may call a workload (list)', load: () => import('./authz.js') },
  { name: 'proxy-status', summary: 'Show every proxy, its controller replica and xDS sync state (SYNCED/STALE/NACKED)', load: () => import('./proxy-status.js') },
  { name: 'proxy-config', summary: 'Show the clusters, listeners, routes, endpoints or secrets a proxy holds (live or offline with -f)', load: () => import('./proxy-config.js') },
  { name: 'controller', summary: 'Run the control plane (xDS for sidecars and proxyless gRPC) from Kubernetes or manifests on disk', load: () => import('./controller.js') },
  { name: 'grpc-agent', summary: 'Keep a proxyless gRPC workload\'s certificate and xDS bootstrap current (runs beside it)', load: () => import('./grpc-agent.js') },
  { name: 'proxy-init', summary: 'Install the traffic redirect in a pod (run by the injected mesh-init container)', load: () => import('./proxy-init.js') },
  { name: 'version', summary: 'Print the client, control plane and data plane versions', load: () => import('./version.js') },
  { name: 'completion', summary: 'Print a shell completion script (bash, zsh, fish or powershell)', load: () => import('./completion.js') },
  { name: '__complete', summary: 'Names of cluster resources for the completion scripts', hidden: true, load: () => import('./complete.js') },
];
