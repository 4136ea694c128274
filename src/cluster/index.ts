import type { Cluster, ConnectOptions } from './types.js';

export type * from './types.js';

/**
 * Connect to the cluster named by --kubeconfig/--context (or $KUBECONFIG, ~/.kube/config, or the
 * in-cluster service account). Loads @kubernetes/client-node on first use only.
 * Throws a MeshError (exit 3) when no kubeconfig or context can be found.
 */
export async function connect(opts: ConnectOptions): Promise<Cluster> {
  const { connectLive } = await import('./live.js');
  return connectLive(opts);
}
