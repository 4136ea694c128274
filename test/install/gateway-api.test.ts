import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { HTTPROUTE_CRD, LABEL_MANAGED_BY, LABEL_PART_OF, LABEL_VERSION } from '../../src/constants.ts';
import { renderManifests } from '../../src/manifests/render.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { validateUpgradeOptions } from '../../src/install/upgrade.ts';
import type { runMeshInProcess } from '../support/cli.ts';
import type { TestCluster } from '../support/kube.ts';
import { service } from '../route/support.ts';
import { getJson, withCluster } from './kube-helpers.ts';
import { loadTemplates } from '../../src/install/templates.ts';

// `--gateway-api`: the mesh's own rendering of the HTTPRoute CRD, for clusters without Gateway API.

const crdsOf = (gatewayApi: boolean | undefined) => renderManifests(resolveValues({}), loadTemplates(), { gatewayApi }).filter((o) => o.kind === 'CustomResourceDefinition');
const CRD_PATH = `/apis/apiextensions.k8s.io/v1/customresourcedefinitions/${HTTPROUTE_CRD}`;
const ROUTE_PATH = '/apis/gateway.networking.k8s.io/v1/namespaces/shop/httproutes/web';

test('the HTTPRoute CRD is rendered only with gatewayApi, in the CRD stage, labelled as ours', () => {
  assert.deepEqual(crdsOf(undefined).map((c) => c.metadata.name), ['authorizationpolicies.mesh.dev', 'mtlspolicies.mesh.dev']);
  assert.deepEqual(crdsOf(false).map((c) => c.metadata.name), ['authorizationpolicies.mesh.dev', 'mtlspolicies.mesh.dev']);
  const all = renderManifests(resolveValues({}), loadTemplates(), { gatewayApi: true });
  const i = all.findIndex((o) => o.metadata.name === HTTPROUTE_CRD);
  assert.ok(i >= 0 && all.slice(0, i).every((o) => o.kind === 'CustomResourceDefinition'), 'applied with the other CRDs, before anything else');
  const crd = all[i]!;
  assert.equal(crd.metadata.namespace, undefined);
  assert.equal(crd.metadata.labels?.[LABEL_MANAGED_BY], 'mesh');
  assert.equal(crd.metadata.labels?.[LABEL_PART_OF], 'mesh');
  assert.ok(crd.metadata.labels?.[LABEL_VERSION]);
});

test('the HTTPRoute CRD validates as apiextensions/v1, is structural and names the Gateway API kind', () => {
  const crd = crdsOf(true).find((c) => c.metadata.name === HTTPROUTE_CRD) as any;
  assert.doesNotThrow(() => new CustomResourceDefinition(crd).validate());
  assert.equal(crd.spec.group, 'gateway.networking.k8s.io');
  assert.equal(crd.spec.scope, 'Namespaced');
  assert.deepEqual([crd.spec.names.kind, crd.spec.names.plural], ['HTTPRoute', 'httproutes']);
  assert.deepEqual(crd.spec.versions.map((v: any) => [v.name, v.served, v.storage]), [['v1', true, true]]);
  const v1 = crd.spec.versions[0];
  assert.deepEqual(v1.subresources, { status: {} });
  // Structural: every node has a type (preserve-unknown nodes too), no node both lists properties and is untyped.
  const walk = (node: any, path: string): void => {
    assert.ok(typeof node.type === 'string', `${path} has no type`);
    for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, `${path}.${k}`);
    if (node.items) walk(node.items, `${path}[]`);
  };
  walk(v1.schema.openAPIV3Schema, HTTPROUTE_CRD);
  const rule = v1.schema.openAPIV3Schema.properties.spec.properties.rules.items.properties;
  assert.deepEqual(rule.matches.items.properties.path.properties.type.enum, ['Exact', 'PathPrefix', 'RegularExpression']);
  assert.deepEqual([rule.backendRefs.items.properties.weight.minimum, rule.backendRefs.items.properties.weight.maximum], [0, 1000000]);
  assert.ok(rule.filters.items.properties.requestMirror.properties.backendRef);
  assert.ok(rule.timeouts.properties.backendRequest);
});

test('upgrade --rollback takes no --gateway-api', () => {
  assert.throws(() => validateUpgradeOptions({ rollback: true, gatewayApi: true, resetValues: false }), /--rollback takes no values flags/);
  assert.doesNotThrow(() => validateUpgradeOptions({ rollback: false, gatewayApi: true, resetValues: false }));
});

function withShop(fn: (c: TestCluster, mesh: (args: string[]) => ReturnType<typeof runMeshInProcess>) => Promise<void>, extraSeed: Record<string, unknown>[] = []): Promise<void> {
  return withCluster(fn, { seed: [{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } }, ...extraSeed, service('web'), service('web-v2'), service('web-shadow')] as Record<string, unknown>[] });
}

async function roundTrip(c: TestCluster, mesh: (args: string[]) => ReturnType<typeof runMeshInProcess>, args: string[]): Promise<{ sent: any; stored: any }> {
  const dry = await mesh([...args, '--dry-run', '-o', 'json']);
  assert.equal(dry.code, 0, dry.stderr);
  const sent = JSON.parse(dry.stdout);
  const r = await mesh(args);
  assert.equal(r.code, 0, r.stderr);
  return { sent, stored: await getJson(c, ROUTE_PATH) };
}

test('install --gateway-api: check --pre stops warning, and mesh route writes HTTPRoutes the schema keeps whole', async () => {
  await withShop(async (c, mesh) => {
    const pre = await mesh(['check', '--pre']);
    assert.match(pre.stdout + pre.stderr, /httproutes\.gateway\.networking\.k8s\.io is missing/);
    const before = await mesh(['route', 'canary', 'web', '--canary', 'web-v2', '--weight', '10', '-n', 'shop']);
    assert.equal(before.code, 1);
    assert.match(before.stderr, /mesh install --gateway-api/);

    const inst = await mesh(['install', '--gateway-api', '--yes']);
    assert.equal(inst.code, 0, inst.stderr);
    assert.match(inst.stdout, new RegExp(`^CustomResourceDefinition/${HTTPROUTE_CRD.replace(/\./g, '\\.')} created$`, 'm'));
    const crd = await getJson(c, CRD_PATH);
    assert.equal(crd.metadata.labels[LABEL_MANAGED_BY], 'mesh');
    const diff = await mesh(['manifest', 'diff', '--cluster']);
    assert.equal(diff.code, 0, diff.stdout + diff.stderr);
    const gen = await mesh(['manifest', 'generate', '--gateway-api']);
    assert.match(gen.stdout, /^ {2}name: httproutes\.gateway\.networking\.k8s\.io$/m);
    const pre2 = await mesh(['check', '--pre']);
    assert.doesNotMatch(pre2.stdout + pre2.stderr, /httproutes\.gateway\.networking\.k8s\.io is missing/);

    const plain = await roundTrip(c, mesh, ['route', 'canary', 'web', '--canary', 'web-v2', '--weight', '10', '-n', 'shop']);
    assert.deepEqual(plain.stored.spec, plain.sent.spec, 'nothing pruned');
    assert.deepEqual(plain.stored.spec.parentRefs, [{ group: '', kind: 'Service', name: 'web' }]);
    assert.deepEqual(plain.stored.spec.rules[0].backendRefs.map((b: any) => [b.name, b.weight]), [['web', 90], ['web-v2', 10]]);

    const full = await roundTrip(c, mesh, [
      'route', 'canary', 'web', '--canary', 'web-v2', '--weight', '25', '-n', 'shop',
      '--match-header', 'x-canary=true', '--match-path', '/api', '--timeout', '2s', '--mirror', 'web-shadow',
      '--retries', '2', '--per-try-timeout', '500ms', '--fault-abort', '503', '--fault-abort-percent', '5',
    ]);
    assert.deepEqual(full.stored.spec, full.sent.spec, 'nothing pruned');
    const rules = full.stored.spec.rules;
    assert.deepEqual(rules[0].matches, [{ headers: [{ type: 'Exact', name: 'x-canary', value: 'true' }] }]);
    assert.equal(rules[0].timeouts.request, '2s');
    assert.equal(rules[1].filters[0].type, 'RequestMirror');
    assert.equal(rules[1].filters[0].requestMirror.backendRef.name, 'web-shadow');
    assert.ok(full.stored.metadata.annotations['mesh.dev/retry']);
    assert.ok(full.stored.metadata.annotations['mesh.dev/fault']);

    const show = await mesh(['route', 'show', 'web', '-n', 'shop']);
    assert.equal(show.code, 0, show.stderr);
    assert.match(show.stdout, /web-v2/);
  });
});

test('install --gateway-api refuses to overwrite an HTTPRoute CRD mesh does not manage', async () => {
  const upstream = {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: HTTPROUTE_CRD, annotations: { 'gateway.networking.k8s.io/bundle-version': 'v1.2.0' } },
    spec: {
      group: 'gateway.networking.k8s.io',
      scope: 'Namespaced',
      names: { plural: 'httproutes', singular: 'httproute', kind: 'HTTPRoute', listKind: 'HTTPRouteList' },
      versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }],
    },
  };
  await withShop(async (c, mesh) => {
    const r = await mesh(['install', '--gateway-api', '--yes']);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error: CustomResourceDefinition httproutes\.gateway\.networking\.k8s\.io already exists and is not managed by mesh .*--gateway-api will not overwrite it/);
    assert.match(r.stderr, /hint: .*without --gateway-api/);
    const crd = await getJson(c, CRD_PATH);
    assert.equal(crd.metadata.annotations['gateway.networking.k8s.io/bundle-version'], 'v1.2.0', 'left as it was');
    assert.equal(await getJson(c, '/api/v1/namespaces/mesh-system'), undefined, 'nothing installed');
    const ok = await mesh(['install', '--yes']);
    assert.equal(ok.code, 0, ok.stderr);
    assert.equal((await getJson(c, CRD_PATH)).metadata.labels?.[LABEL_MANAGED_BY], undefined, 'a plain install leaves it alone');
  }, [upstream]);
});

test('upgrade without --gateway-api keeps (and updates) the HTTPRoute CRD; uninstall removes it only with --purge', async () => {
  await withShop(async (c, mesh) => {
    assert.equal((await mesh(['install', '--gateway-api', '--yes'])).code, 0);
    assert.equal((await mesh(['route', 'canary', 'web', '--canary', 'web-v2', '--weight', '10', '-n', 'shop'])).code, 0);
    const up = await mesh(['upgrade', '--set', 'controller.replicas=2', '--yes']);
    assert.equal(up.code, 0, up.stderr);
    assert.doesNotMatch(up.stdout, /httproutes.* pruned/);
    assert.doesNotMatch(up.stdout, /^- .*kind: CustomResourceDefinition/m);
    assert.ok(await getJson(c, CRD_PATH), 'the CRD is kept');
    assert.ok(await getJson(c, ROUTE_PATH), 'and with it the user HTTPRoute');

    const un = await mesh(['uninstall', '--yes']);
    assert.equal(un.code, 0, un.stderr);
    assert.ok(await getJson(c, CRD_PATH), 'uninstall without --purge keeps the CRD');
    const purge = await mesh(['uninstall', '--purge', '--yes']);
    assert.equal(purge.code, 0, purge.stderr);
    assert.match(purge.stdout, /CustomResourceDefinition\/httproutes\.gateway\.networking\.k8s\.io deleted/);
  });
});
