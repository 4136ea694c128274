import type { KubeObject } from '../../src/cluster/types.ts';

/**
 * What a real cluster has and the test clusters lack: the kube-dns Service in kube-system with a
 * ready EndpointSlice, so the pre-install check `dns.cluster-dns` (which `mesh install` runs) passes.
 * Seed these into the test API server (`startApiServer({ seed })`) or a fake cluster.
 */
export function clusterDnsObjects(): KubeObject[] {
  return [
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'kube-dns', namespace: 'kube-system', labels: { 'k8s-app': 'kube-dns' } }, spec: { ports: [{ name: 'dns', port: 53, protocol: 'UDP' }] } },
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: 'kube-dns-abc', namespace: 'kube-system', labels: { 'kubernetes.io/service-name': 'kube-dns' } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.0.0.2'], conditions: { ready: true } }],
      ports: [{ name: 'dns', port: 53 }],
    },
  ];
}
