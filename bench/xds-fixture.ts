// Synthetic meshes for the xDS benchmarks: S services over NS namespaces, E endpoints each.
import type { KubeObject } from '../src/cluster/types.ts';
import type { Source, SourceObject, SourceWatch } from '../src/cluster/source.ts';

export function syntheticMesh(services = 1000, endpointsPerService = 10, namespaces = 50, endpointSeed = 0): KubeObject[] {
  const out: KubeObject[] = [];
  for (let n = 0; n < namespaces; n++) out.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${n}` } });
  for (let i = 0; i < services; i++) {
    const ns = `ns${i % namespaces}`;
    const name = `svc${i}`;
    out.push({ apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns }, spec: { clusterIP: `10.96.${i >> 8}.${i & 255}`, selector: { app: name }, ports: [{ name: 'grpc', port: 8080, targetPort: 9090 }] } });
    out.push(slice(ns, name, i, endpointsPerService, i === 0 ? endpointSeed : 0));
    if (i % 10 === 0 && i + 1 < services) {
      out.push({
        apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', metadata: { name, namespace: ns },
        spec: { parentRefs: [{ group: '', kind: 'Service', name, port: 8080 }], rules: [{ backendRefs: [{ name, port: 8080, weight: 90 }, { name, port: 8080, weight: 10 }], timeouts: { request: '5s' } }] },
      });
    }
  }
  return out;
}

/** The EndpointSlice of service i; `seed` shifts its addresses (an endpoint change). */
export function slice(ns: string, name: string, i: number, n: number, seed = 0): KubeObject {
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: `${name}-1`, namespace: ns, labels: { 'kubernetes.io/service-name': name } },
    addressType: 'IPv4', ports: [{ name: 'grpc', port: 9090 }],
    endpoints: Array.from({ length: n }, (_, e) => ({ addresses: [`10.${(i >> 8) + 1}.${i & 255}.${(e + seed) % 250}`], conditions: { ready: true } })),
  };
}

/**
 * A mesh for the scale bench: `services` Services over `namespaces` namespaces, each with one
 * EndpointSlice of `endpointsPerService` endpoints, every namespace scoped to itself
 * (`mesh.dev/reachable-namespaces`), so a proxy's config holds only its own namespace's services
 * and an endpoint change affects only the proxies of that namespace.
 */
export function scopedMesh(services: number, endpointsPerService: number, namespaces: number): KubeObject[] {
  return syntheticMesh(services, endpointsPerService, namespaces).map((o) =>
    o.kind === 'Namespace' ? { ...o, metadata: { ...o.metadata, annotations: { 'mesh.dev/reachable-namespaces': o.metadata.name } } } : o,
  );
}

/**
 * Delivers whatever the bench hands it and keeps nothing, as the files and Kubernetes sources do
 * (MemorySource keeps the last set for watch(), which would hold every round's fresh copy alive).
 */
export class PushSource implements Source {
  readonly description = 'bench';
  private onChange: ((objects: KubeObject[]) => void) | undefined;
  constructor(private first: KubeObject[] | undefined) {}
  async list(): Promise<SourceObject[]> {
    return [];
  }
  async watch(onChange: (objects: KubeObject[]) => void): Promise<SourceWatch> {
    this.onChange = onChange;
    const first = this.first!;
    this.first = undefined;
    onChange(first);
    return { stop: () => this.stop() };
  }
  async stop(): Promise<void> {
    this.onChange = undefined;
  }
  set(objects: KubeObject[]): void {
    this.onChange?.(objects);
  }
}
