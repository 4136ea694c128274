import type { TestCluster } from '../../support/kube.ts';

/**
 * The controller pod `mesh-system/mesh-controller-0` behind the test API server's pod proxy: its
 * introspection port 15014 reaches the server listening on 127.0.0.1:`port` (the debug token header
 * passed on when the caller sends one); any other port is refused, as a pod would.
 */
export function proxyControllerIntrospection(kube: TestCluster, port: number): void {
  kube.server.setPodProxy('mesh-system', 'mesh-controller-0', async (req) => {
    if (req.port !== '15014') return { status: 503, body: 'connection refused' };
    const token = req.headers['x-mesh-debug-token'];
    const res = await fetch(`http://127.0.0.1:${port}${req.path}${req.query ? `?${req.query}` : ''}`, { headers: token ? { 'x-mesh-debug-token': token } : {} });
    return { status: res.status, body: await res.text(), contentType: res.headers.get('content-type') ?? 'text/plain' };
  });
}
