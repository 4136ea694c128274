import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { X509Certificate } from 'node:crypto';
import { connect as tlsConnect } from 'node:tls';
import { runController } from '../../src/controller/run.ts';
import { generateRoot, type CertAndKey } from '../../src/pki/index.ts';
import { startApiServer } from '../support/kube.ts';
import { captureUi } from '../support/ui.ts';

// The controller against the test API server, through the life of its root CA: started before the
// Secret exists, it enables the CA, the webhook and the TLS port when the Secret appears (no
// restart); a rotated root reaches the webhook's caBundle (old and new root) so the API server
// keeps trusting the re-issued serving certificate; a namespace that loses its inject label loses
// its trust bundle ConfigMap.

const NS = 'mesh-system';
const HOST = `mesh-controller.${NS}.svc`;
const WEBHOOK = '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/mesh-sidecar-injector';

const secret = (root: CertAndKey) => ({
  apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mesh-root-ca', namespace: NS }, type: 'kubernetes.io/tls',
  data: { 'tls.crt': Buffer.from(root.certPem).toString('base64'), 'tls.key': Buffer.from(root.keyPem).toString('base64') },
});

/** Fingerprints of the certificates in a base64 PEM bundle. */
function fingerprints(b64: string | undefined): string[] {
  const pem = Buffer.from(b64 ?? '', 'base64').toString('utf8');
  return (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []).map((c) => new X509Certificate(c).fingerprint256).sort();
}

/** Complete a TLS handshake with the webhook trusting only `caPem` for the Service name (what the API server does). */
function handshake(port: number, caPem: string): Promise<X509Certificate> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: '127.0.0.1', port, servername: HOST, ca: caPem }, () => {
      const cert = s.getPeerX509Certificate();
      s.end();
      if (cert) resolve(cert);
      else reject(new Error('no peer certificate'));
    });
    s.on('error', reject);
  });
}

test('root CA lifecycle: a Secret that appears later enables the CA and webhook; a rotation updates the caBundle; a namespace that leaves the mesh loses its trust bundle', async () => {
  const [root1, root2] = await Promise.all([generateRoot({ trustDomain: 'cluster.local' }), generateRoot({ trustDomain: 'cluster.local' })]);
  const c = await startApiServer({
    seed: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NS } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'mesh.dev/inject': 'enabled' } } },
      {
        apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'mesh-sidecar-injector' },
        webhooks: [{
          name: 'sidecar-injector.mesh.dev', admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Ignore',
          clientConfig: { service: { name: 'mesh-controller', namespace: NS, path: '/inject', port: 443 } },
          rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }],
        }],
      },
    ],
  });
  const { ui, err, waitFor } = captureUi({ yes: true });
  const signals = new EventEmitter();
  const done = runController({ source: 'kubernetes', paths: [], address: '127.0.0.1', xdsPort: 0, xdsTlsPort: 0, metricsPort: 0, webhookPort: 0, debounceMs: 10, kubeconfig: c.kubeconfigPath, meshNamespace: NS, identity: 'replica-0', rootRecheckMs: 100 }, ui, signals);
  const within = <T>(p: Promise<T>, what: string): Promise<T> =>
    Promise.race([p, done.then(() => Promise.reject(new Error(`controller stopped:\n${err()}`))), new Promise<never>((_, reject) => setTimeout(() => reject(new Error(`${what}: not within 20 s\n${err()}`)), 20_000).unref())]);
  try {
    await within(Promise.all([waitFor(/CA, admission webhook and xDS TLS port disabled: no Secret mesh-system\/mesh-root-ca/), waitFor(/became the leader/)]), 'start without a root');
    assert.doesNotMatch(err(), /webhook listening/);

    // 1. The Secret appears: no restart needed.
    assert.equal((await c.request('POST', `/api/v1/namespaces/${NS}/secrets`, { body: JSON.stringify(secret(root1)) })).status, 201);
    await within(Promise.all([waitFor(/admission webhook listening on https:\/\/127\.0\.0\.1:(\d+)/), waitFor(/trust bundle: wrote ConfigMap shop\/mesh-trust-bundle/), waitFor(/set the caBundle .* \(1 root\(s\)\)/)]), 'the Secret appearing');
    const port = Number(/admission webhook listening on https:\/\/127\.0\.0\.1:(\d+)/.exec(err())![1]);
    const fp1 = new X509Certificate(root1.certPem).fingerprint256;
    const fp2 = new X509Certificate(root2.certPem).fingerprint256;
    assert.deepEqual(fingerprints((await c.request('GET', WEBHOOK)).json.webhooks[0].clientConfig.caBundle), [fp1]);
    const leaf1 = await handshake(port, root1.certPem);
    assert.ok(leaf1.checkIssued(new X509Certificate(root1.certPem)));

    // 2. The root rotates: the caBundle holds both roots before the API server meets the new certificate.
    const put = { ...secret(root2), metadata: { ...secret(root2).metadata, resourceVersion: (await c.request('GET', `/api/v1/namespaces/${NS}/secrets/mesh-root-ca`)).json.metadata.resourceVersion } };
    assert.equal((await c.request('PUT', `/api/v1/namespaces/${NS}/secrets/mesh-root-ca`, { body: JSON.stringify(put) })).status, 200);
    await within(Promise.all([waitFor(/CA: root changed/), waitFor(/serving certificate renewed \(new root\)/), waitFor(/set the caBundle .* \(2 root\(s\)\)/)]), 'the rotation');
    const bundle = (await c.request('GET', WEBHOOK)).json.webhooks[0].clientConfig.caBundle as string;
    assert.deepEqual(fingerprints(bundle), [fp1, fp2].sort());
    // What the API server does: verify the webhook's (renewed) certificate against the caBundle.
    const leaf2 = await handshake(port, Buffer.from(bundle, 'base64').toString('utf8'));
    assert.ok(leaf2.checkIssued(new X509Certificate(root2.certPem)), 'the webhook now serves a certificate from the new root');

    // 3. The namespace leaves the mesh: its trust bundle goes.
    assert.equal((await c.request('GET', '/api/v1/namespaces/shop/configmaps/mesh-trust-bundle')).status, 200);
    const patched = await c.request('PATCH', '/api/v1/namespaces/shop', { body: JSON.stringify({ metadata: { labels: { 'mesh.dev/inject': null } } }), headers: { 'Content-Type': 'application/merge-patch+json' } });
    assert.equal(patched.status, 200, patched.body);
    await within(waitFor(/trust bundle: deleted ConfigMap shop\/mesh-trust-bundle/), 'the label removal');
    assert.equal((await c.request('GET', '/api/v1/namespaces/shop/configmaps/mesh-trust-bundle')).status, 404);
  } finally {
    signals.emit('SIGTERM');
    assert.equal(await done, 0);
    await c.stop();
  }
});
