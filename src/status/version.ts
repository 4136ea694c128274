import { LABEL_PROXY_VERSION, LABEL_VERSION, CONTROLLER_NAME, LABEL_NAME } from '../constants.js';
import type { Cluster } from '../cluster/types.js';

/** The stable shape of `mesh version -o json`. */
export interface VersionReport {
  client: { version: string; node: string; platform: string };
  server?: { kubernetes: string; context: string };
  controlPlane?: { version: string; replicas: number; namespace: string }[];
  dataPlane?: { version: string; proxies: number }[];
  /** Why the server part is missing, when it is. */
  note?: string;
  /** Why the server part is missing, as every command's error document has it (docs/cli.md). */
  error?: { message: string; hint?: string; exitCode: number };
}

/**
 * Ask the cluster which control plane and proxies run. The control plane is every Deployment
 * labelled app.kubernetes.io/name=mesh-controller; proxies are pods labelled with their version.
 */
export async function collectServerVersions(cluster: Cluster): Promise<Required<Pick<VersionReport, 'server' | 'controlPlane' | 'dataPlane'>>> {
  const [kube, deployments, pods] = await Promise.all([
    cluster.serverVersion(),
    cluster.list('apps/v1', 'Deployment', { labelSelector: `${LABEL_NAME}=${CONTROLLER_NAME}` }),
    cluster.list('v1', 'Pod', { labelSelector: LABEL_PROXY_VERSION }),
  ]);
  const controlPlane = deployments.map((d) => ({
    version: d.metadata.labels?.[LABEL_VERSION] ?? 'unknown',
    replicas: Number((d.status as { readyReplicas?: number } | undefined)?.readyReplicas ?? 0),
    namespace: d.metadata.namespace ?? '',
  }));
  const counts = new Map<string, number>();
  for (const p of pods) {
    const v = p.metadata.labels?.[LABEL_PROXY_VERSION] ?? 'unknown';
    counts.set(v, (counts.get(v) ?? 0) + 1);
  }
  const dataPlane = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([version, proxies]) => ({ version, proxies }));
  return { server: { kubernetes: kube.gitVersion, context: cluster.contextName }, controlPlane, dataPlane };
}
