import type { Cluster, KubeObject } from '../cluster/types.js';
import { FIELD_MANAGER, LABEL_INJECT, LABEL_MANAGED_BY, LABEL_PART_OF, LABEL_VERSION, MANAGED_BY, PART_OF, TRUST_BUNDLE_CONFIGMAP, TRUST_BUNDLE_KEY, WEBHOOK_NAME } from '../constants.js';
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
 * nothing, and deletes it from a namespace that was injected and is no longer (its label removed).
 * Only the leader should call sync(); every replica calls observe() with each model, so a replica
 * that becomes leader knows which namespaces left; reset() forgets what was written (call it on
 * becoming leader).
 */
export class TrustBundlePublisher {
  private written = new Map<string, string>();
  /** Namespaces seen injected since start whose ConfigMap may still exist. */
  private readonly seen = new Set<string>();
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly cluster: Cluster, private readonly log: (line: string) => void = () => undefined) {}

  reset(): void {
    this.written.clear();
  }

  /** Remember `namespaces` as injected (they get the ConfigMap; when one leaves the list, the leader's next sync deletes it). */
  observe(namespaces: readonly string[]): void {
    for (const ns of namespaces) this.seen.add(ns);
  }

  /** Bring every namespace to `pem` and remove the ConfigMap where injection ended; failures are logged and retried on the next sync. */
  sync(namespaces: readonly string[], pem: string): Promise<void> {
    this.observe(namespaces);
    this.chain = this.chain.then(async () => {
      const keep = new Set(namespaces);
      for (const ns of [...this.seen].filter((n) => !keep.has(n))) {
        try {
          // A namespace that is gone takes its ConfigMap with it: false (404) is fine too.
          if (await this.cluster.delete('v1', 'ConfigMap', TRUST_BUNDLE_CONFIGMAP, ns)) this.log(`trust bundle: deleted ConfigMap ${ns}/${TRUST_BUNDLE_CONFIGMAP} (the namespace is no longer injected)`);
          this.seen.delete(ns);
          this.written.delete(ns);
        } catch (err) {
          this.log(`trust bundle: cannot delete ConfigMap ${ns}/${TRUST_BUNDLE_CONFIGMAP} (will retry): ${(err as Error).message}`);
        }
      }
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

/**
 * Keeps the caBundle of our MutatingWebhookConfiguration (WEBHOOK_NAME) equal to the CA's trust
 * bundle, so the API server trusts a serving certificate the controller re-issued from a rotated
 * root (the bundle holds the old and the new root). Only webhooks that call the controller's
 * Service in `namespace` are touched; a configuration that does not exist is left alone (not
 * installed by mesh install). Only the leader should call sync(); reset() forgets (on becoming leader).
 */
export class WebhookCaBundle {
  private written: string | undefined;
  private chain: Promise<void> = Promise.resolve();

  constructor(private readonly cluster: Cluster, private readonly namespace: string, private readonly log: (line: string) => void = () => undefined) {}

  reset(): void {
    this.written = undefined;
  }

  /** Bring the caBundle to `pem` (read, change, replace: a conflict is retried on the next sync). */
  sync(pem: string): Promise<void> {
    this.chain = this.chain.then(async () => {
      if (this.written === pem) return;
      try {
        const cfg = await this.cluster.get('admissionregistration.k8s.io/v1', 'MutatingWebhookConfiguration', WEBHOOK_NAME);
        if (!cfg) return;
        const b64 = Buffer.from(pem).toString('base64');
        type Hook = { clientConfig?: { caBundle?: string; service?: { namespace?: string } } };
        const hooks = ((cfg as { webhooks?: Hook[] }).webhooks ?? []).filter((w) => w.clientConfig?.service?.namespace === this.namespace);
        const stale = hooks.filter((w) => w.clientConfig!.caBundle !== b64);
        if (stale.length) {
          for (const w of stale) w.clientConfig!.caBundle = b64;
          await this.cluster.replace(cfg);
          this.log(`webhook: set the caBundle of MutatingWebhookConfiguration ${WEBHOOK_NAME} to the trust bundle (${pem.match(/-----BEGIN CERTIFICATE-----/g)?.length ?? 0} root(s))`);
        }
        this.written = pem;
      } catch (err) {
        this.log(`webhook: cannot update the caBundle of MutatingWebhookConfiguration ${WEBHOOK_NAME} (will retry): ${(err as Error).message}`);
      }
    });
    return this.chain;
  }
}
