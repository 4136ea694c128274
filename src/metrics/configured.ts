import { DEFAULT_NAMESPACE, MESH_CONFIG_KEY, MESH_CONFIG_NAME } from '../constants.js';
import type { Cluster } from '../cluster/types.js';

/**
 * The Prometheus the installed mesh names in values `metrics.prometheusUrl` (ConfigMap
 * mesh-config in `meshNamespace`): what `mesh stat` and the `mesh route` gates read when no
 * --prometheus-url is given. Undefined when it is empty, the mesh is not installed there, or
 * mesh-config cannot be read (no RBAC for it): the commands then read the proxies directly (stat)
 * or have no metrics (route), exactly as before the value existed. Never throws.
 */
export async function configuredPrometheusUrl(cluster: Cluster, meshNamespace: string = DEFAULT_NAMESPACE): Promise<string | undefined> {
  try {
    const cm = await cluster.get('v1', 'ConfigMap', MESH_CONFIG_NAME, meshNamespace);
    const text = (cm?.data as Record<string, string> | undefined)?.[MESH_CONFIG_KEY];
    if (!text) return undefined;
    // Loaded only when there is a config to read: the yaml package is a third of a stat's start.
    const { parse } = await import('yaml');
    const url = (parse(text) as { metrics?: { prometheusUrl?: unknown } } | null)?.metrics?.prometheusUrl;
    return typeof url === 'string' && url !== '' ? url : undefined;
  } catch {
    return undefined;
  }
}
