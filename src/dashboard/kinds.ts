import type { WatchKind } from '../cluster/watch.js';

/** Kinds the dashboard watches beyond the model's (WATCHED_KINDS): workloads for the graph's nodes, Gateways as entry points. */
export const DASHBOARD_WATCH_KINDS: readonly WatchKind[] = [
  { apiVersion: 'apps/v1', kind: 'Deployment', plural: 'deployments' },
  { apiVersion: 'apps/v1', kind: 'StatefulSet', plural: 'statefulsets' },
  { apiVersion: 'apps/v1', kind: 'DaemonSet', plural: 'daemonsets' },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', plural: 'gateways', missingHint: 'install the Gateway API CRDs to see ingress Gateways in the dashboard' },
];
