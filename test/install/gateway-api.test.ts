import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { HTTPROUTE_CRD, LABEL_MANAGED_BY } from '../../src/constants.ts';
import { MeshError } from '../../src/errors.ts';
import { GATEWAY_API, loadGatewayApiBundle, type GatewayApiDeps } from '../../src/install/gateway-api.ts';
import { runInstall } from '../../src/install/install.ts';
import { runUpgrade, validateUpgradeOptions } from '../../src/install/upgrade.ts';
import type { runMeshInProcess } from '../support/cli.ts';
import { GATEWAY_API_BUNDLE, STAND_IN_PIN } from '../support/gateway-api.ts';
import type { TestCluster } from '../support/kube.ts';
import { service } from '../route/support.ts';
import { captureUi, installOpts, upgradeOpts } from './helpers.ts';
import { getJson, withCluster } from './kube-helpers.ts';

// `--gateway-api`: the official Gateway API CRDs of the pinned release, verified by SHA-256 before
// anything is applied. The real release file cannot be fetched here (no internet), so the apply
// path runs on a stand-in bundle pinned by its own digest; the CLI path proves that anything but
// the pinned file is refused.

const BUNDLE = GATEWAY_API_BUNDLE;
const BUNDLE_BYTES = readFileSync(BUNDLE);
const PIN = STAND_IN_PIN;
const CRD_PATH = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${HTTPROUTE_CRD}`;
const ROUTE_PATH = '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/web';

const serveBundle = (bytes: Buffer = BUNDLE_BYTES): GatewayApiDeps & { urls: string[] } => {
  const urls: string[] = [];
  return {
    urls,
    pin: PIN,
    fetch: async (url) => {
      urls.push(url);
      return { ok: true, status: 200, arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer };
    },
  };
};

test('the bundle is downloaded from the pinned release URL and refused unless its SHA-256 is the pinned one', async () => {
  const deps = serveBundle();
  const objects = await loadGatewayApiBundle(undefined, deps);
  assert.deepEqual(deps.urls, [GATEWAY_API.url]);
  assert.match(GATEWAY_API.url, /^https:\/\/github\.com\/kubernetes-sigs\/gateway-api\/releases\/download\/v\d+\.\d+\.\d+\/standard-install\.yaml$/);
  assert.deepEqual(objects.map((o) => o.metadata.name).sort(), ['gatewayclasses', 'gateways', 'grpcroutes', 'httproutes', 'referencegrants'].map((p) => `${p}.gateway.networking.k8s.io`));
  assert.ok(objects.every((o) => o.metadata.labels?.[LABEL_MANAGED_BY] === 'mesh'), 'labelled so upgrade knows whose they are');

  const tampered = Buffer.concat([BUNDLE_BYTES, Buffer.from('# one more line\n')]);
  await assert.rejects(loadGatewayApiBundle(undefined, serveBundle(tampered)), (e: MeshError) => e.exitCode === 1 && /SHA-256 [0-9a-f]{64} is not that of the Gateway API v1\.5\.0 standard-install\.yaml/.test(e.message));
  const failing: GatewayApiDeps = { pin: PIN, fetch: async () => ({ ok: false, status: 404, arrayBuffer: async () => new ArrayBuffer(0) }) };
  await assert.rejects(loadGatewayApiBundle(undefined, failing), (e: MeshError) => e.exitCode === 1 && /HTTP 404/.test(e.message) && /--gateway-api-crds FILE/.test(e.hint ?? ''));
  // A digest-valid bundle of another release, or holding something else, is refused too.
  const other = Buffer.from(BUNDLE_BYTES.toString().replaceAll('v1.5.0', 'v1.4.0'));
  const otherPin = { ...PIN, sha256: createHash('sha256').update(other).digest('hex') };
  await assert.rejects(loadGatewayApiBundle(undefined, { ...serveBundle(other), pin: otherPin }), /is standard channel v1\.4\.0, not standard v1\.5\.0/);
});

test('mesh install --gateway-api-crds FILE refuses a file that is not the pinned release, before touching the cluster', async () => {
  await withCluster(async (c, mesh) => {
    const r = await mesh(['install', '--gateway-api-crds', BUNDLE, '--yes']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /^error: .*standard-install\.yaml: SHA-256 [0-9a-f]{64} is not that of the Gateway API v1\.5\.0 standard-install\.yaml \(510338cf/m);
    assert.match(r.stderr, /hint: use the release file itself \(https:\/\/github\.com\/kubernetes-sigs\/gateway-api\/releases\/download\/v1\.5\.0\/standard-install\.yaml\)/);
    assert.equal(await getJson(c, '/api/v1/namespaces/mesh-system'), undefined, 'nothing installed');
    const missing = await mesh(['install', '--gateway-api-crds', '/nonexistent/standard-install.yaml', '--yes']);
    assert.equal(missing.code, 2);
    assert.match(missing.stderr, /--gateway-api-crds \/nonexistent\/standard-install\.yaml: no such file/);
  });
});

test('upgrade --rollback takes no --gateway-api', () => {
  assert.throws(() => validateUpgradeOptions({ rollback: true, gatewayApi: true, resetValues: false }), /--rollback takes no values flags/);
  assert.doesNotThrow(() => validateUpgradeOptions({ rollback: false, gatewayApi: true, resetValues: false }));
});

function withShop(fn: (c: TestCluster, mesh: (args: string[]) => ReturnType<typeof runMeshInProcess>) => Promise<void>, extraSeed: Record<string, unknown>[] = []): Promise<void> {
  return withCluster(fn, { seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, ...extraSeed, service('web'), service('web-v2')] as Record<string, unknown>[] });
}

test('install --gateway-api applies the bundle with the CRDs; check --pre names the release; upgrade keeps it; uninstall never removes it', async () => {
  await withShop(async (c, mesh) => {
    const pre = await mesh(['check', '--pre']);
    assert.match(pre.stdout + pre.stderr, /httproutes\.gateway\.networking\.k8s\.io is missing/);

    const ui = captureUi({ yes: true });
    const code = await runInstall(installOpts({ gatewayApi: true, kubeconfig: c.kubeconfigPath }), ui.ui, { gatewayApi: { pin: PIN, fetch: serveBundle().fetch } });
    assert.equal(code, 0, ui.err());
    assert.match(ui.out(), new RegExp(`^CustomResourceDefinition/${HTTPROUTE_CRD.replace(/\./g, '\\.')} created$`, 'm'));
    const crd = await getJson(c, CRD_PATH);
    assert.equal(crd.metadata.labels[LABEL_MANAGED_BY], 'mesh');
    assert.equal(crd.metadata.annotations['gateway.networking.k8s.io/bundle-version'], 'v1.5.0');
    const pre2 = await mesh(['check', '--pre', '-o', 'json']);
    assert.match(pre2.stdout, /the Gateway API CRDs are v1\.5\.0 \(standard channel\)/);

    assert.equal((await mesh(['route', 'canary', 'web', '--canary', 'web-v2', '--weight', '10', '-n', 'shop'])).code, 0);
    const diff = await mesh(['manifest', 'diff', '--cluster']);
    assert.equal(diff.code, 0, 'the Gateway API CRDs are not part of the release: ' + diff.stdout);
    const up = captureUi({ yes: true });
    assert.equal(await runUpgrade(upgradeOpts({ sets: ['controller.replicas=2'], kubeconfig: c.kubeconfigPath }), up.ui), 0, up.err());
    assert.doesNotMatch(up.out(), /gateway\.networking\.k8s\.io.* pruned/);
    assert.ok(await getJson(c, CRD_PATH), 'the CRD is kept');
    assert.ok(await getJson(c, ROUTE_PATH), 'and with it the user HTTPRoute');

    // Installing again over mesh's own CRDs of the same release is fine (idempotent).
    const again = captureUi({ yes: true });
    assert.equal(await runInstall(installOpts({ gatewayApi: true, kubeconfig: c.kubeconfigPath }), again.ui, { gatewayApi: { pin: PIN, fetch: serveBundle().fetch } }), 0, again.err());

    const purge = await mesh(['uninstall', '--purge', '--yes']);
    assert.equal(purge.code, 0, purge.stderr);
    assert.doesNotMatch(purge.stdout, /gateway\.networking\.k8s\.io deleted/);
    assert.ok(await getJson(c, CRD_PATH), 'shared with other gateway controllers: kept');
  });
});

const FOREIGN = {
  apiVersion: 'apiextensions.k8s.io/v1',
  kind: 'CustomResourceDefinition',
  metadata: { name: HTTPROUTE_CRD, annotations: { 'gateway.networking.k8s.io/bundle-version': 'v1.2.0', 'gateway.networking.k8s.io/channel': 'standard' }, labels: { 'app.kubernetes.io/managed-by': 'Helm' } },
  spec: {
    group: 'gateway.networking.k8s.io',
    scope: 'Namespaced',
    names: { plural: 'httproutes', singular: 'httproute', kind: 'HTTPRoute', listKind: 'HTTPRouteList' },
    versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
  },
};

test('install --gateway-api refuses to overwrite Gateway API CRDs another tool manages; check --pre reports their release', async () => {
  await withShop(async (c, mesh) => {
    const pre = await mesh(['check', '--pre', '-o', 'json']);
    assert.match(pre.stdout, /the Gateway API CRDs are v1\.2\.0 \(standard channel\)/);
    const ui = captureUi({ yes: true });
    await assert.rejects(
      runInstall(installOpts({ gatewayApi: true, kubeconfig: c.kubeconfigPath }), ui.ui, { gatewayApi: { pin: PIN, fetch: serveBundle().fetch } }),
      (e: MeshError) => e.exitCode === 1 && /already has Gateway API CRDs that mesh does not manage \(httproutes\.gateway\.networking\.k8s\.io\)/.test(e.message) && /without --gateway-api/.test(e.hint ?? ''),
    );
    assert.equal((await getJson(c, CRD_PATH)).metadata.annotations['gateway.networking.k8s.io/bundle-version'], 'v1.2.0', 'left as it was');
    assert.equal(await getJson(c, '/api/v1/namespaces/mesh-system'), undefined, 'nothing installed');
  }, [FOREIGN]);
});

test('check --pre warns about Gateway API CRDs older than the minimum, or not from a release', async () => {
  const old = structuredClone(FOREIGN);
  old.metadata.annotations['gateway.networking.k8s.io/bundle-version'] = 'v0.8.1';
  await withShop(async (_c, mesh) => {
    const r = await mesh(['check', '--pre', '-o', 'json']);
    assert.match(r.stdout, /the Gateway API CRDs are v0\.8\.1, older than v1\.1\.0/);
  }, [old]);
  const homemade = structuredClone(FOREIGN) as { metadata: { annotations?: unknown } };
  delete homemade.metadata.annotations;
  await withShop(async (_c, mesh) => {
    const r = await mesh(['check', '--pre', '-o', 'json']);
    assert.match(r.stdout, /has no gateway\.networking\.k8s\.io\/bundle-version annotation: not an official Gateway API release/);
  }, [homemade as Record<string, unknown>]);
});
