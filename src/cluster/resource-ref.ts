import { usageError } from '../errors.js';

/**
 * kubectl's TYPE/NAME forms (deploy/web, deployment/web, sts/, ds/, pod/, svc/, ns/), read one
 * way by every command that names a workload or a Service: stat, edges, proxy-config, route.
 */

/** Resource kinds `mesh stat` and `mesh edges` accept, by their short name. */
export type ResourceKind = 'deploy' | 'sts' | 'ds' | 'pod' | 'svc' | 'ns';

/** API version and kind of each resource kind. */
export const KINDS: Record<ResourceKind, { apiVersion: string; kind: string }> = {
  deploy: { apiVersion: 'apps/v1', kind: 'Deployment' },
  sts: { apiVersion: 'apps/v1', kind: 'StatefulSet' },
  ds: { apiVersion: 'apps/v1', kind: 'DaemonSet' },
  pod: { apiVersion: 'v1', kind: 'Pod' },
  svc: { apiVersion: 'v1', kind: 'Service' },
  ns: { apiVersion: 'v1', kind: 'Namespace' },
};

const ALIASES: Record<string, ResourceKind> = {
  deploy: 'deploy', deployment: 'deploy', deployments: 'deploy',
  sts: 'sts', statefulset: 'sts', statefulsets: 'sts',
  ds: 'ds', daemonset: 'ds', daemonsets: 'ds',
  po: 'pod', pod: 'pod', pods: 'pod',
  svc: 'svc', service: 'svc', services: 'svc',
  ns: 'ns', namespace: 'ns', namespaces: 'ns',
};

/** `deploy/web` or `deploy`: a kind and maybe a name. */
export interface ResourceRef {
  kind: ResourceKind;
  name?: string;
}

/** Parse `KIND[/NAME]` (kubectl's short and long kind names). Usage error (exit 2) otherwise; `flag` names the argument in it. */
export function parseResourceRef(arg: string, flag = 'resource'): ResourceRef {
  const [k, name, extra] = arg.split('/');
  const kind = ALIASES[(k ?? '').toLowerCase()];
  if (!kind || extra !== undefined || name === '') {
    throw usageError(`${flag} "${arg}" is not KIND[/NAME]`, 'KIND is one of deploy, sts, ds, pod, svc, ns (e.g. deploy/web)');
  }
  return name ? { kind, name } : { kind };
}

/** kubectl's names of the Gateway API Gateway (`gateway/NAME`, `gateways/NAME`, `gtw/NAME`). */
const GATEWAY_ALIASES = new Set(['gateway', 'gateways', 'gtw']);

/**
 * The NAME of a `gateway/NAME` argument (kubectl's TYPE/NAME form for a Gateway API Gateway), or
 * undefined when `arg` names another kind. Only commands that can show a Gateway's proxies take it.
 */
export function gatewayRefName(arg: string, flag = 'resource'): string | undefined {
  const [k, name, extra] = arg.split('/');
  if (!GATEWAY_ALIASES.has((k ?? '').toLowerCase())) return undefined;
  if (!name || extra !== undefined) throw usageError(`${flag} "${arg}" is not gateway/NAME`, 'e.g. gateway/edge -n ingress');
  return name;
}
