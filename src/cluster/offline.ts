import { ExitCode, MeshError } from '../errors.js';
import type { Cluster, KubeObject, ListOptions } from './types.js';

/**
 * A read-only Cluster over manifests on disk, so commands that read before they write (`mesh route
 * ... --dry-run -f k8s/`) run in CI with no cluster. Every kind counts as served (the files are
 * what would be applied); objects without a namespace take `namespace` (kubectl apply -f -n).
 * Any write or live-only call throws a usage error: offline, only --dry-run makes sense.
 */
export function offlineCluster(objects: readonly KubeObject[], namespace: string, source: string): Cluster {
  const stored = objects.map((o) => {
    const c = structuredClone(o);
    if (c.metadata.namespace === undefined) c.metadata.namespace = namespace;
    return c;
  });
  const refuse = (what: string) => async (): Promise<never> => {
    throw new MeshError(`${what} needs a cluster: with -f (${source}) a command can only read the files`, { hint: 'add --dry-run to print the result, or drop -f to work on the cluster', exitCode: ExitCode.Usage });
  };
  const matches = (o: KubeObject, apiVersion: string, kind: string) => o.apiVersion === apiVersion && o.kind === kind;
  return {
    contextName: `files (${source})`,
    server: '',
    defaultNamespace: namespace,
    serverVersion: refuse('reading the server version'),
    async list(apiVersion: string, kind: string, opts: ListOptions = {}) {
      return stored.filter((o) => matches(o, apiVersion, kind) && (opts.namespace === undefined || o.metadata.namespace === opts.namespace)).map((o) => structuredClone(o));
    },
    async get(apiVersion: string, kind: string, name: string, ns?: string) {
      const o = stored.find((x) => matches(x, apiVersion, kind) && x.metadata.name === name && (ns === undefined || x.metadata.namespace === ns));
      return o ? structuredClone(o) : undefined;
    },
    async hasKind() {
      return true;
    },
    create: refuse('creating an object'),
    replace: refuse('changing an object'),
    apply: refuse('applying an object'),
    delete: refuse('deleting an object'),
    canI: refuse('an access review'),
    podLogs: refuse('reading pod logs'),
    tokenReview: refuse('a token review'),
  };
}
