import type { Command } from 'commander';

/**
 * A top-level command. `load` imports the command's module only when that command runs (or when
 * completion needs every flag), so `mesh --help` stays fast and loads no cluster or gRPC code.
 */
export interface CommandEntry {
  name: string;
  summary: string;
  /** The module's `define` adds options, subcommands and the action to `cmd`. */
  load: () => Promise<{ define(cmd: Command): void }>;
}

/** Every top-level command, in the order `mesh --help` lists them. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'version', summary: 'Print the client, control plane and data plane versions', load: () => import('./version.js') },
  { name: 'inject', summary: 'Add the mesh sidecar to workloads in YAML or JSON (offline)', load: () => import('./inject.js') },
  { name: 'uninject', summary: 'Remove the mesh sidecar that inject added', load: () => import('./uninject.js') },
  { name: 'proxy-init', summary: 'Install the traffic redirect in a pod (run by the injected mesh-init container)', load: () => import('./proxy-init.js') },
  { name: 'route', summary: 'Canary releases, traffic shifting, retries, timeouts and fault injection', load: () => import('./route.js') },
  { name: 'controller', summary: 'Run the control plane (xDS for sidecars and proxyless gRPC) from Kubernetes or manifests on disk', load: () => import('./controller.js') },
  { name: 'completion', summary: 'Print a shell completion script (bash, zsh or fish)', load: () => import('./completion.js') },
];
