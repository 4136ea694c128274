// mesh upgrade --ca-cert/--ca-key replaces the root CA, also one that has already expired
// (linkerd2#4808, #13613): the upgrade itself must not fail on the expired root.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateRoot } from '../../src/pki/index.ts';
import { getJson, withCluster } from './kube-helpers.ts';

const fingerprints = (pem: string) => (pem.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? []).map((b) => new X509Certificate(b).fingerprint256);
const b64 = (s: string) => Buffer.from(s).toString('base64');

async function writeRoot(dir: string, name: string, opts: { now?: Date; ttl?: string } = {}): Promise<{ cert: string; key: string; pem: string }> {
  const root = await generateRoot({ trustDomain: 'cluster.local', ...opts });
  writeFileSync(join(dir, `${name}.crt`), root.certPem);
  writeFileSync(join(dir, `${name}.key`), root.keyPem, { mode: 0o600 });
  return { cert: join(dir, `${name}.crt`), key: join(dir, `${name}.key`), pem: root.certPem };
}

test('upgrade --ca-cert/--ca-key: a valid old root stays in the bundle beside the new one; an expired one is replaced and dropped', { timeout: 60_000 }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-upgrade-ca-'));
  try {
    await withCluster(async (c, mesh) => {
      assert.equal((await mesh(['install', '--yes', '--no-wait'])).code, 0);
      const caBundle = async () => Buffer.from((await getJson(c, '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/mesh-sidecar-injector')).webhooks[0].clientConfig.caBundle, 'base64').toString();
      const trustBundle = async () => (await getJson(c, '/api/v1/namespaces/mesh-system/configmaps/mesh-trust-bundle')).data['ca.crt'];

      // 1. The installed root is still valid: overlap.
      const old = Buffer.from((await getJson(c, '/api/v1/namespaces/mesh-system/secrets/mesh-root-ca')).data['tls.crt'], 'base64').toString();
      const first = await writeRoot(dir, 'first');
      const up = await mesh(['upgrade', '--yes', '--no-wait', '--ca-cert', first.cert, '--ca-key', first.key]);
      assert.equal(up.code, 0, up.stderr);
      assert.match(up.stderr, /the old root stays in the trust bundle until it expires/);
      assert.deepEqual(fingerprints(await trustBundle()), [...fingerprints(first.pem), ...fingerprints(old)]);
      assert.deepEqual(fingerprints(await caBundle()), [...fingerprints(first.pem), ...fingerprints(old)]);
      const half = await mesh(['upgrade', '--yes', '--ca-cert', first.cert]);
      assert.equal(half.code, 2);
      assert.match(half.stderr, /--ca-key is missing/);

      // 2. The installed root expired a year ago (issued two years ago for a day).
      const expired = await generateRoot({ trustDomain: 'cluster.local', now: new Date(Date.now() - 2 * 365 * 86_400_000), ttl: '24h' });
      const secret = await getJson(c, '/api/v1/namespaces/mesh-system/secrets/mesh-root-ca');
      const stale = { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'mesh-root-ca', namespace: 'mesh-system', labels: secret.metadata.labels }, type: secret.type, data: { 'tls.crt': b64(expired.certPem), 'tls.key': b64(expired.keyPem), 'ca.crt': b64(expired.certPem) } };
      // Applied as mesh's own field manager: as if mesh had installed this root long ago.
      const put = await c.request('PATCH', '/api/v1/namespaces/mesh-system/secrets/mesh-root-ca?fieldManager=mesh', { body: JSON.stringify(stale), headers: { 'Content-Type': 'application/apply-patch+yaml' } });
      assert.equal(put.status, 200, put.body);
      // An upgrade without a new root goes through with the expired one too.
      const plain = await mesh(['upgrade', '--yes', '--no-wait']);
      assert.equal(plain.code, 0, plain.stderr);
      const fresh = await writeRoot(dir, 'new');
      const replaced = await mesh(['upgrade', '--yes', '--no-wait', '--ca-cert', fresh.cert, '--ca-key', fresh.key]);
      assert.equal(replaced.code, 0, replaced.stderr);
      assert.match(replaced.stderr, /the old root expired on .* and is dropped from the trust bundle/);
      const after = await getJson(c, '/api/v1/namespaces/mesh-system/secrets/mesh-root-ca');
      assert.equal(Buffer.from(after.data['tls.crt'], 'base64').toString(), fresh.pem);
      assert.deepEqual(fingerprints(await trustBundle()), fingerprints(fresh.pem));
      assert.deepEqual(fingerprints(await caBundle()), fingerprints(fresh.pem));
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
