import type { Cluster, KubeObject } from '../cluster/types.js';
import { FIELD_MANAGER, LABEL_INJECT, LABEL_MANAGED_BY, LABEL_PART_OF, LABEL_VERSION, MANAGED_BY, PART_OF, TRUST_BUNDLE_CONFIGMAP, TRUST_BUNDLE_KEY } from '../constants.js';
import { VERSION } from '../version.js';

/** Namespaces whose pods get injected (label mesh.dev/inject=enabled), from the source's objects. */
export function injectedNamespaces(objects: readonly KubeObject[]): string[] {
  return objects.filter((o) => o.kind === 'Namespace' && o.metadata.labels?.[LABEL_INJECT] === 'enabled' && !o.metadata.deletionTimestamp).map((o) => o.metadata.name).sort();
}

/** The trust bundle ConfigMap for one namespace. */
export function trustBundleConfigMap(namespace: string, pem: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: TRUST_BUNDLE_CONFIGMAP, namespace, labels: { [LABEL_PART_OF]: PART_OF, [LABEL_MANAGED_BY]: MANAGED_BY, [LABEL_VERSION]: VERSION } },
    data: { [TRUST_BUNDLE_KEY]: pem },
  };
}

/**
 * Writes ConfigMap TRUST_BUNDLE_CONFIGMAP (key ca.crt) into every injected namespace by
 * server-side apply, remembering what each namespace holds so a sync with nothing new writes
 * nothing. Only the leader should call sync(); reset() forgets (call it on becoming leader).
 */
export class TrustBundlePublisher {
  private written = new Map<string, string>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly cluster: Cluster, private readonly log: (line: string) => void = () => undefined) {}

  reset(): void {
    this.written.clear();
  }

  /** Bring every namespace to `pem`; failures are logged and retried on the next sync. */
  sync(namespaces: readonly string[], pem: string): Promise<void> {
    this.chain = this.chain.then(async () => {
      for (const ns of namespaces) {
        if (this.written.get(ns) === pem) continue;
        try {
          await this.cluster.apply(trustBundleConfigMap(ns, pem), { fieldManager: FIELD_MANAGER, force: true });
          this.written.set(ns, pem);
          this.log(`trust bundle: wrote ConfigMap ${ns}/${TRUST_BUNDLE_CONFIGMAP}`);
        } catch (err) {
          this.log(`trust bundle: cannot write ConfigMap ${ns}/${TRUST_BUNDLE_CONFIGMAP} (will retry): ${(err as Error).message}`);
        }
      }
    });
    return this.chain;
  }
}
