import type { ConnectOptions, KubeObject } from '../cluster/types.js';
import { MESH_DOMAIN } from '../constants.js';
import type { ObjectSource } from './controlplane.js';
import type { Watcher, WatchKind } from '../cluster/watch.js';

/** What the model reads from a live cluster. */
export const WATCHED_KINDS: readonly WatchKind[] = [
  { apiVersion: 'v1', kind: 'Namespace', plural: 'namespaces' },
  { apiVersion: 'v1', kind: 'Service', plural: 'services' },
  { apiVersion: 'v1', kind: 'Pod', plural: 'pods' },
  { apiVersion: 'v1', kind: 'ServiceAccount', plural: 'serviceaccounts' },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', plural: 'endpointslices' },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'HTTPRoute', plural: 'httproutes' },
  { apiVersion: `${MESH_DOMAIN}/v1alpha1`, kind: 'AuthorizationPolicy', plural: 'authorizationpolicies' },
];

/** The live source: informers on every watched kind (see src/cluster/watch.ts). */
export class KubernetesSource implements ObjectSource {
  readonly description = 'kubernetes';
  private watcher: Watcher | undefined;

  constructor(private readonly connect: ConnectOptions, private readonly log: (line: string) => void = () => undefined) {}

  async start(onChange: (objects: KubeObject[]) => void, onError: (err: Error) => void): Promise<void> {
    const { watchObjects } = await import('../cluster/watch.js');
    this.watcher = await watchObjects(this.connect, [...WATCHED_KINDS], onChange, (err) => {
      this.log(err.message);
      onError(err);
    });
  }

  async stop(): Promise<void> {
    await this.watcher?.stop();
    this.watcher = undefined;
  }
}
