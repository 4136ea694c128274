// An in-memory Cluster for handler tests that need no HTTP: list from an array, pod proxy from a function.
import type { Cluster, KubeObject, ListOptions, ProxyResponse, ProxyTarget } from '../../../src/cluster/types.ts';

export function fakeCluster(objects: Record<string, unknown>[], proxy: (t: ProxyTarget, path: string) => ProxyResponse | Promise<ProxyResponse>): Cluster {
  const objs = objects as unknown as KubeObject[];
  return {
    contextName: 'fake',
    server: 'https://fake',
    async serverVersion() {
      return { major: '1', minor: '32', gitVersion: 'v1.32.0' };
    },
    async list(apiVersion: string, kind: string, opts: ListOptions = {}) {
      return objs.filter((o) => o.apiVersion === apiVersion && o.kind === kind && (!opts.namespace || o.metadata.namespace === opts.namespace));
    },
    async get(apiVersion: string, kind: string, name: string, namespace?: string) {
      return objs.find((o) => o.apiVersion === apiVersion && o.kind === kind && o.metadata.name === name && (!namespace || o.metadata.namespace === namespace));
    },
    async proxyGet(t, path) {
      return proxy(t, path);
    },
    // Verbs other branches added to Cluster; stat never calls them (merge fix in branch check).
    apply: async () => { throw new Error('not used'); },
    delete: async () => { throw new Error('not used'); },
    canI: async () => { throw new Error('not used'); },
    create: async () => { throw new Error('not used'); },
    podLogs: async () => { throw new Error('not used'); },
  };
}
