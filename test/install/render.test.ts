import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1/CustomResourceDefinition';
import { MutatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1/MutatingWebhookConfiguration';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { Role } from 'kubernetes-models/rbac.authorization.k8s.io/v1/Role';
import { RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/RoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Namespace } from 'kubernetes-models/v1/Namespace';
import { Secret } from 'kubernetes-models/v1/Secret';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import { LABEL_MANAGED_BY, LABEL_PART_OF, LABEL_VERSION, MESH_CONFIG_KEY, MESH_CONFIG_NAME } from '../../src/constants.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { renderManifests, STAGES, stageOf, toYamlStream, type CaMaterial } from '../../src/manifests/render.ts';
import { resolveValues, PROFILES } from '../../src/manifests/values.ts';
import { VERSION } from '../../src/version.ts';
import { loadTemplates } from '../../src/install/templates.ts';
import { assertGolden } from '../support/golden.ts';

const FIXTURES = new URL('../fixtures/manifests/', import.meta.url).pathname;
const CA: CaMaterial = {
  certPem: readFileSync(new URL('../fixtures/ca/root.crt', import.meta.url), 'utf8'),
  keyPem: readFileSync(new URL('../fixtures/ca/root.key', import.meta.url), 'utf8'),
};

interface Case {
  profile?: string;
  sets?: string[];
  ca?: boolean;
}

function renderCase(c: Case): KubeObject[] {
  return renderManifests(resolveValues({ profile: c.profile, sets: c.sets }), loadTemplates(), { ca: c.ca ? CA : undefined, version: '0.0.0-golden', profile: c.profile });
}

for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.input.yaml')).sort()) {
  const name = file.replace(/\.input\.yaml$/, '');
  test(`golden: ${name}`, () => {
    const c = parse(readFileSync(join(FIXTURES, file), 'utf8')) as Case;
    const got = toYamlStream(renderCase(c));
    assertGolden(join(FIXTURES, `${name}.golden.yaml`), got);
  });
}

test('rendering is deterministic: the same input gives the same bytes, twice in one process', () => {
  for (const p of PROFILES) {
    const a = toYamlStream(renderCase({ profile: p.name, ca: true }));
    const b = toYamlStream(renderCase({ profile: p.name, ca: true }));
    assert.equal(a, b, p.name);
  }
});

const MODELS: Record<string, new (o: never) => { validate(): void }> = {
  CustomResourceDefinition,
  Namespace,
  ServiceAccount,
  ClusterRole,
  ClusterRoleBinding,
  Role,
  RoleBinding,
  ConfigMap,
  Secret,
  Deployment,
  Service,
  PodDisruptionBudget,
  MutatingWebhookConfiguration,
};

for (const p of PROFILES) {
  test(`every object of the ${p.name} profile validates against its Kubernetes schema`, () => {
    const objects = renderCase({ profile: p.name, ca: true });
    for (const o of objects) {
      const Model = MODELS[o.kind];
      assert.ok(Model, `no schema model registered for ${o.kind}: add it to MODELS`);
      assert.doesNotThrow(() => new Model(o as never).validate(), `${o.kind}/${o.metadata.name}`);
    }
  });
}

test('the schema check can fail: a Deployment with a numeric image is rejected', () => {
  const d = renderCase({}).find((o) => o.kind === 'Deployment')!;
  (d.spec as any).template.spec.containers[0].image = 42;
  assert.throws(() => new Deployment(d as never).validate());
});

test('every object carries part-of, managed-by and version labels', () => {
  for (const o of renderCase({ profile: 'ha', ca: true })) {
    assert.equal(o.metadata.labels?.[LABEL_PART_OF], 'mesh', o.kind);
    assert.equal(o.metadata.labels?.[LABEL_MANAGED_BY], 'mesh', o.kind);
    assert.equal(o.metadata.labels?.[LABEL_VERSION], '0.0.0-golden', o.kind);
  }
  assert.equal(renderManifests(resolveValues(), loadTemplates()).find((o) => o.kind === 'Namespace')!.metadata.labels?.[LABEL_VERSION], VERSION);
});

test('objects come in dependency order: CRDs, namespace, RBAC, config, workloads, webhook', () => {
  const stages = renderCase({ ca: true }).map((o) => STAGES.indexOf(stageOf(o)));
  assert.deepEqual(stages, [...stages].sort((a, b) => a - b));
  const kinds = renderCase({ ca: true }).map((o) => o.kind);
  assert.equal(kinds[0], 'CustomResourceDefinition');
  assert.equal(kinds.at(-1), 'MutatingWebhookConfiguration');
});

test('RBAC has no wildcards, and mutating access is limited to what the controller needs', () => {
  for (const o of renderCase({ profile: 'ha', ca: true }).filter((x) => x.kind === 'ClusterRole' || x.kind === 'Role')) {
    for (const r of o.rules as { apiGroups: string[]; resources: string[]; verbs: string[]; resourceNames?: string[] }[]) {
      for (const field of [r.apiGroups, r.resources, r.verbs, r.resourceNames ?? []]) assert.ok(!field.some((x) => x.includes('*')), `${o.kind} rule ${JSON.stringify(r)}`);
      const writes = r.verbs.filter((v) => !['get', 'list', 'watch'].includes(v));
      if (writes.length === 0) continue;
      const ok =
        (r.resources.includes('tokenreviews') && writes.every((v) => v === 'create')) ||
        (r.resources.every((x) => x.endsWith('/status'))) ||
        // the trust bundle ConfigMap in injected namespaces: create (RBAC cannot name it), get/patch only by name
        (r.resources.join() === 'configmaps' && (writes.every((v) => v === 'create') || r.resourceNames?.join() === 'mesh-trust-bundle')) ||
        // our webhook's caBundle follows root rotations: update, by name only
        (r.resources.join() === 'mutatingwebhookconfigurations' && r.resourceNames?.join() === 'mesh-sidecar-injector' && writes.every((v) => v === 'update')) ||
        (o.kind === 'Role' && r.resources.every((x) => ['leases', 'events'].includes(x))) ||
        // the /debug token Secret, in the mesh namespace only: create (RBAC cannot name it); reads only by name
        (o.kind === 'Role' && r.resources.join() === 'secrets' && writes.every((v) => v === 'create')) ||
        // the proxies of ingress Gateways: create and update (never delete; owner GC does) of these three kinds only
        (o.metadata.name === 'mesh-gateway-provisioner' && r.resources.every((x) => ['deployments', 'services', 'serviceaccounts'].includes(x)) && writes.every((v) => v === 'create' || v === 'update'));
      assert.ok(ok, `unexpected write access in ${o.kind}: ${JSON.stringify(r)}`);
    }
  }
});

test('the Deployment is hardened and sized from values; ha adds anti-affinity and a PDB', () => {
  const v = resolveValues({ profile: 'ha', sets: ['controller.resources.limits.memory=2Gi'] });
  const objs = renderManifests(v, loadTemplates());
  const d = objs.find((o) => o.kind === 'Deployment') as any;
  const pod = d.spec.template.spec;
  const c = pod.containers[0];
  assert.equal(d.spec.replicas, 3);
  assert.equal(pod.securityContext.runAsNonRoot, true);
  assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
  assert.equal(c.securityContext.readOnlyRootFilesystem, true);
  assert.equal(c.securityContext.allowPrivilegeEscalation, false);
  assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
  assert.equal(c.readinessProbe.httpGet.path, '/readyz');
  assert.equal(c.livenessProbe.httpGet.path, '/healthz');
  assert.equal(c.resources.limits.memory, '2Gi');
  assert.ok(pod.affinity.podAntiAffinity);
  assert.ok(objs.some((o) => o.kind === 'PodDisruptionBudget'));
  const def = renderManifests(resolveValues(), loadTemplates());
  assert.equal((def.find((o) => o.kind === 'Deployment') as any).spec.template.spec.affinity, undefined);
  assert.ok(!def.some((o) => o.kind === 'PodDisruptionBudget'));
});

test('ports follow values: container, controller flags, Service (with appProtocol) and the xDS address (the TLS port)', () => {
  const v = resolveValues({ sets: ['controller.plaintextXds=true', 'controller.xdsPort=16010', 'controller.xdsTlsPort=16012', 'controller.metricsPort=16014', 'controller.webhookPort=16017'] });
  const objs = renderManifests(v, loadTemplates());
  const c = (objs.find((o) => o.kind === 'Deployment') as any).spec.template.spec.containers[0];
  assert.deepEqual(c.ports.map((p: any) => [p.name, p.containerPort]), [['grpc-xds', 16010], ['grpc-xds-tls', 16012], ['https-webhook', 16017], ['http-metrics', 16014]]);
  const flag = (f: string) => c.args[c.args.indexOf(f) + 1];
  assert.deepEqual(['--xds-port', '--xds-tls-port', '--webhook-port', '--metrics-port'].map(flag), ['16010', '16012', '16017', '16014'], 'the controller listens where the container ports say');
  const svc = objs.find((o) => o.kind === 'Service') as any;
  assert.deepEqual(svc.spec.ports.map((p: any) => [p.name, p.port, p.targetPort, p.appProtocol]), [['grpc-xds', 16010, 'grpc-xds', 'grpc'], ['grpc-xds-tls', 16012, 'grpc-xds-tls', 'grpc'], ['https-webhook', 443, 'https-webhook', 'https'], ['http-metrics', 16014, 'http-metrics', 'http']]);
  const cm = objs.find((o) => o.metadata.name === MESH_CONFIG_NAME) as any;
  assert.equal(cm.data.xdsAddress, 'mesh-controller.mesh-system.svc:16012', 'sidecars dial the TLS port');
  assert.deepEqual(parse(cm.data[MESH_CONFIG_KEY]), v, 'mesh-config holds the full resolved values');
});

test('plaintext xDS is off by default: no --xds-port flag, no container or Service port for it', () => {
  const objs = renderManifests(resolveValues({}), loadTemplates());
  const c = (objs.find((o) => o.kind === 'Deployment') as any).spec.template.spec.containers[0];
  assert.ok(!c.args.includes('--plaintext-xds') && !c.args.includes('--xds-port'), c.args.join(' '));
  assert.deepEqual(c.ports.map((p: any) => p.name), ['grpc-xds-tls', 'https-webhook', 'http-metrics']);
  const svc = objs.find((o) => o.kind === 'Service') as any;
  assert.deepEqual(svc.spec.ports.map((p: any) => p.name), ['grpc-xds-tls', 'https-webhook', 'http-metrics']);
  const on = renderManifests(resolveValues({ sets: ['controller.plaintextXds=true'] }), loadTemplates());
  const args = (on.find((o) => o.kind === 'Deployment') as any).spec.template.spec.containers[0].args as string[];
  assert.deepEqual(args.slice(args.indexOf('--plaintext-xds'), args.indexOf('--plaintext-xds') + 3), ['--plaintext-xds', '--xds-port', '15010']);
});

test('the webhook: namespace label selector, excludes kube-system and the mesh namespace, honours opt-out, failurePolicy from values', () => {
  const objs = renderManifests(resolveValues({ profile: 'minimal', sets: ['namespace=istio-free'] }), loadTemplates(), { ca: CA });
  const w = (objs.find((o) => o.kind === 'MutatingWebhookConfiguration') as any).webhooks[0];
  assert.equal(w.failurePolicy, 'Ignore');
  assert.equal(w.sideEffects, 'None');
  assert.deepEqual(w.admissionReviewVersions, ['v1']);
  assert.deepEqual(w.namespaceSelector.matchExpressions, [
    { key: 'mesh.dev/inject', operator: 'In', values: ['enabled'] },
    { key: 'kubernetes.io/metadata.name', operator: 'NotIn', values: ['kube-system', 'istio-free'] },
  ]);
  assert.deepEqual(w.objectSelector.matchExpressions[0], { key: 'mesh.dev/inject', operator: 'NotIn', values: ['disabled'] });
  assert.equal(w.clientConfig.service.namespace, 'istio-free');
  assert.equal(Buffer.from(w.clientConfig.caBundle, 'base64').toString(), CA.certPem);
  assert.equal((renderManifests(resolveValues(), loadTemplates()).find((o) => o.kind === 'MutatingWebhookConfiguration') as any).webhooks[0].failurePolicy, 'Fail');
});

test('without CA material no Secret, no trust bundle and no caBundle are rendered (nothing random)', () => {
  const objs = renderManifests(resolveValues(), loadTemplates());
  assert.ok(!objs.some((o) => o.kind === 'Secret'));
  assert.ok(!objs.some((o) => o.metadata.name === 'mesh-trust-bundle'));
  assert.equal((objs.find((o) => o.kind === 'MutatingWebhookConfiguration') as any).webhooks[0].clientConfig.caBundle, undefined);
  const withCa = renderManifests(resolveValues(), loadTemplates(), { ca: CA });
  const s = withCa.find((o) => o.kind === 'Secret') as any;
  assert.equal(s.type, 'kubernetes.io/tls');
  assert.equal(Buffer.from(s.data['tls.key'], 'base64').toString(), CA.keyPem);
});

test('CRDs are structural: every schema node has a type, and the status subresource is on', () => {
  const walk = (node: any, path: string): void => {
    // x-kubernetes-int-or-string is the one structural node without a type (Kubernetes allows it).
    assert.ok(typeof node.type === 'string' || node['x-kubernetes-int-or-string'] === true, `${path} has no type`);
    for (const [k, v] of Object.entries(node.properties ?? {})) walk(v, `${path}.${k}`);
    if (node.items) walk(node.items, `${path}[]`);
    if (node.additionalProperties && typeof node.additionalProperties === 'object') walk(node.additionalProperties, `${path}{}`);
  };
  const crds = renderCase({}).filter((o) => o.kind === 'CustomResourceDefinition') as any[];
  assert.deepEqual(crds.map((c) => c.spec.names.kind), ['AuthorizationPolicy', 'MTLSPolicy', 'ExternalService', 'TrafficPolicy']);
  for (const crd of crds) {
    for (const v of crd.spec.versions) {
      walk(v.schema.openAPIV3Schema, crd.metadata.name);
      assert.deepEqual(v.subresources, { status: {} });
    }
  }
  const ap = crds[0].spec.versions[0].schema.openAPIV3Schema.properties.spec.properties;
  assert.deepEqual(ap.action.enum, ['ALLOW', 'DENY']);
  assert.ok(ap.rules.items.properties.from.items.properties.principals);
  assert.ok(ap.rules.items.properties.to.items.properties.paths);
});

test('names in templates/ agree with src/constants.ts (the controller, webhook and RBAC rely on them)', async () => {
  const k = await import('../../src/constants.ts');
  const objs = renderCase({ ca: true });
  const named = (kind: string) => objs.filter((o) => o.kind === kind).map((o) => o.metadata.name);
  assert.deepEqual(named('Deployment'), [k.CONTROLLER_NAME]);
  assert.deepEqual(named('Service'), [k.CONTROLLER_NAME]);
  assert.deepEqual(named('MutatingWebhookConfiguration'), [k.WEBHOOK_NAME]);
  assert.deepEqual(named('Secret'), [k.ROOT_CA_SECRET]);
  assert.deepEqual(named('ConfigMap'), [k.MESH_CONFIG_NAME, k.TRUST_BUNDLE_CONFIGMAP]);
  const rules = objs.filter((o) => o.kind === 'ClusterRole' || o.kind === 'Role').flatMap((o) => o.rules as { resourceNames?: string[] }[]);
  const names = rules.flatMap((r) => r.resourceNames ?? []);
  for (const n of [k.ROOT_CA_SECRET, k.MESH_CONFIG_NAME, k.TRUST_BUNDLE_CONFIGMAP]) assert.ok(names.includes(n), `RBAC names ${n}`);
  const d = objs.find((o) => o.kind === 'Deployment') as any;
  assert.equal(d.spec.template.metadata.annotations[k.ANNOTATION_INJECT], 'disabled', 'the control plane is never injected');
  assert.equal(d.spec.template.spec.serviceAccountName, named('ServiceAccount')[0]);
});

test('every file under templates/ is one renderManifests can be given (none is silently left out)', async () => {
  const { readdirSync } = await import('node:fs');
  const { TEMPLATE_FILES } = await import('../../src/manifests/render.ts');
  assert.deepEqual(readdirSync(new URL('../../templates/', import.meta.url)).filter((f) => f.endsWith('.yaml')).sort(), [...TEMPLATE_FILES].sort());
});

test('renderManifests renders the template texts it is given (it reads no files)', () => {
  const shipped = loadTemplates();
  const custom = { ...shipped, 'namespace.yaml': shipped['namespace.yaml'].replace(/^metadata:\n/m, 'metadata:\n  annotations:\n    from-test: "yes"\n') };
  assert.notEqual(custom['namespace.yaml'], shipped['namespace.yaml'], 'the test template differs');
  const ns = renderManifests(resolveValues(), custom).find((o) => o.kind === 'Namespace')!;
  assert.equal(ns.metadata.annotations?.['from-test'], 'yes');
  assert.equal(renderManifests(resolveValues(), shipped).find((o) => o.kind === 'Namespace')!.metadata.annotations?.['from-test'], undefined, 'each Templates object is parsed on its own');
});
