import { startApiServer, startKubelet, type TestCluster } from '../support/kube.ts';
import { runMeshInProcess } from '../support/cli.ts';
import { clusterDnsObjects } from '../support/cluster-dns.ts';

// End to end: the CLI against the test API server, with a stand-in kubelet.

/**
 * Run `fn` against a fresh test API server with the test kubelet; `mesh` runs the CLI against it,
 * in-process (the process boundary has its own tests: test/cli, test/install/unreachable). The server holds `seed` and cluster DNS (install's pre-install checks need it) unless
 * `dns: false`.
 */
export async function withCluster(fn: (c: TestCluster, mesh: (args: string[], kubeconfig?: string) => ReturnType<typeof runMeshInProcess>) => Promise<void>, opts: { ready?: boolean; dns?: boolean; seed?: Record<string, unknown>[] } = {}): Promise<void> {
  const c = await startApiServer({ seed: [...(opts.dns === false ? [] : clusterDnsObjects()), ...(opts.seed ?? [])] });
  // With ready: false the controller's pods run but never become Ready (a rollout that times out).
  const kubelet = startKubelet(c.server, opts.ready === false ? { notReadySelector: 'app.kubernetes.io/name=mesh-controller' } : {});
  try {
    await fn(c, (args, kubeconfig = c.kubeconfigPath) => runMeshInProcess(['--kubeconfig', kubeconfig, ...args]));
  } finally {
    kubelet.stop();
    await c.stop();
  }
}

/** GET a path as the admin; undefined unless 200. */
export const getJson = async (c: TestCluster, path: string) => {
  const r = await c.request('GET', path);
  return r.status === 200 ? r.json : undefined;
};
/** Number of write requests the server has seen (reviews excluded). */
export const writes = (c: TestCluster) => c.server.requests.filter((r) => !['GET', 'LIST', 'WATCH'].includes(r.method) && !(r.resource ?? '').includes('review')).length;

