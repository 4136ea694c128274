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
