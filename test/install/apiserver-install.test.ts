import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getJson, withCluster, writes } from './kube-helpers.ts';

// End to end: the built CLI against the test API server, with a stand-in kubelet.

test('install creates everything and waits for the rollout; a second install changes nothing and says so', async () => {
  await withCluster(async (c, mesh) => {
    const r = await mesh(['install', '--yes']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^18 created, 0 configured, 0 unchanged$/m);
    assert.match(r.stderr, /^✔ can reach the Kubernetes API server \(https:\/\/127\.0\.0\.1:\d+, Kubernetes v1\.\d+/m);
    assert.match(r.stderr, /^✔ cluster DNS \(kube-dns\/CoreDNS\) has ready endpoints/m);
    assert.match(r.stderr, /^pre-install checks passed/m);
    assert.match(r.stderr, /installed in namespace mesh-system and ready/);
    const d = await getJson(c, '/apis/apps/v1/namespaces/mesh-system/deployments/mesh-controller');
    assert.equal(d.status.readyReplicas, 1);
    assert.equal(d.metadata.labels['app.kubernetes.io/managed-by'], 'mesh');
    assert.ok(d.metadata.managedFields.some((f: any) => f.manager === 'mesh' && f.operation === 'Apply'), 'server-side apply as field manager mesh');
    const secret = await getJson(c, '/api/v1/namespaces/mesh-system/secrets/mesh-root-ca');
    const webhook = await getJson(c, '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/mesh-sidecar-injector');
    assert.equal(webhook.webhooks[0].clientConfig.caBundle, secret.data['tls.crt']);
    const crd = await getJson(c, '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/authorizationpolicies.mesh.dev');
    assert.deepEqual(crd.spec.versions[0].schema.openAPIV3Schema.properties.spec.properties.action.enum, ['ALLOW', 'DENY'], 'the schema arrives intact');

    const rootBefore = JSON.stringify(secret.data);
    const again = await mesh(['install', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^nothing changed: all 18 objects unchanged$/m);
    const s2 = await getJson(c, '/api/v1/namespaces/mesh-system/secrets/mesh-root-ca');
    assert.equal(JSON.stringify(s2.data), rootBefore, 'the root CA was not regenerated');

    const diff = await mesh(['manifest', 'diff', '--cluster']);
    assert.equal(diff.code, 0, diff.stdout + diff.stderr);
    assert.match(diff.stderr, /no differences/);
  });
});

test('install --dry-run writes nothing', async () => {
  await withCluster(async (c, mesh) => {
    const before = writes(c);
    const r = await mesh(['install', '--dry-run']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /kind: MutatingWebhookConfiguration/);
    assert.match(r.stderr, /dry run: nothing was changed/);
    assert.equal(writes(c), before);
    assert.equal(await getJson(c, '/api/v1/namespaces/mesh-system'), undefined);
  });
});

test('without cluster DNS install refuses before writing anything (exit 1, the check\'s message); --skip-checks goes on', async () => {
  await withCluster(
    async (c, mesh) => {
      const r = await mesh(['install', '--yes']);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, /^✖ cluster DNS \(kube-dns\/CoreDNS\) has ready endpoints: no kube-dns or coredns Service in kube-system$/m);
      assert.match(r.stderr, /^error: pre-install check failed: cluster DNS \(kube-dns\/CoreDNS\) has ready endpoints: no kube-dns or coredns Service in kube-system$/m);
      assert.match(r.stderr, /hint: .*--skip-checks to install anyway/);
      assert.equal(r.stdout, '');
      assert.equal(writes(c), 0, 'the server saw no writes');
      const skipped = await mesh(['install', '--yes', '--skip-checks']);
      assert.equal(skipped.code, 0, skipped.stderr);
      assert.doesNotMatch(skipped.stderr, /cluster DNS/);
      assert.match(skipped.stdout, /^18 created, 0 configured, 0 unchanged$/m);
    },
    { dns: false },
  );
});

test('an install interrupted by a server error lists what was applied; re-running completes it', async () => {
  await withCluster(async (c, mesh) => {
    c.server.addFault({ verb: 'patch', resource: 'deployments', code: 500, message: 'etcdserver: request timed out', times: 1 });
    const r = await mesh(['install', '--yes']);
    assert.equal(r.code, 1, r.stderr);
    // The Service is applied in the same stage as the Deployment, so it is in; the webhook is not.
    assert.match(r.stderr, /^error: etcdserver: request timed out — stopped after applying 16 of 18 objects: CustomResourceDefinition\/authorizationpolicies\.mesh\.dev \(created\), .*Service\/mesh-system\/mesh-controller \(created\)$/m);
    assert.doesNotMatch(r.stderr, /Deployment\/mesh-system\/mesh-controller \(/);
    assert.match(r.stderr, /hint: .*re-run the same mesh install command/);
    assert.equal(await getJson(c, '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/mesh-sidecar-injector'), undefined, 'the webhook is not applied before the controller');
    const again = await mesh(['install', '--yes']);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Deployment\/mesh-system\/mesh-controller created$/m);
    assert.match(again.stdout, /^2 created, 0 configured, 16 unchanged$/m);
  });
});

test('a forbidden verb: exit 3 naming verb and resource, from the checks and from the apply itself', async () => {
  await withCluster(async (c, mesh) => {
    const everything = [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }];
    const token = c.server.addUser('installer', everything);
    c.server.auth.deny({ verbs: ['create', 'patch'], apiGroups: ['rbac.authorization.k8s.io'], resources: ['clusterroles'] }, 'installer');
    const kc = c.kubeconfigFor(token, 'installer');
    const r = await mesh(['install', '--yes'], kc);
    assert.equal(r.code, 3, r.stderr);
    assert.match(r.stderr, /^error: forbidden: not allowed to create clusterroles\.rbac\.authorization\.k8s\.io \(cluster-wide\), patch clusterroles\.rbac\.authorization\.k8s\.io \(cluster-wide\)$/m);
    assert.match(r.stderr, /^✖ can create and update clusterroles\.rbac\.authorization\.k8s\.io: /m);
    assert.equal(writes(c), 0, 'nothing applied');
    const skipped = await mesh(['install', '--yes', '--skip-checks'], kc);
    assert.equal(skipped.code, 3, skipped.stderr);
    assert.match(skipped.stderr, /clusterroles/);
    assert.match(skipped.stderr, /forbidden/i);
  });
});

test('a rollout that never becomes ready: exit 1 with the pods\' reasons and events, and no webhook', async () => {
  await withCluster(
    async (c, mesh) => {
      // What the kubelet would report for a failing readiness probe.
      const unsubscribe = c.server.store.subscribe((e) => {
        if (e.type !== 'ADDED' || e.res !== '/pods') return;
        const pod = e.object;
        setImmediate(() =>
          c.server.api.create(c.server.resource('', 'Event'), pod.metadata.namespace, { apiVersion: 'v1', kind: 'Event', metadata: { name: `${pod.metadata.name}.probe`, namespace: pod.metadata.namespace }, involvedObject: { kind: 'Pod', name: pod.metadata.name, namespace: pod.metadata.namespace }, type: 'Warning', reason: 'Unhealthy', message: 'Readiness probe failed: HTTP probe failed with statuscode: 503' }, { manager: 'kubelet' }),
        );
      });
      try {
        const r = await mesh(['install', '--yes', '--timeout', '3s']);
        assert.equal(r.code, 1, r.stderr);
        assert.match(r.stderr, /^error: Deployment mesh-system\/mesh-controller did not roll out within 3s \(0\/1 ready\): pod mesh-controller-\S+ Running: controller not ready, Unhealthy: Readiness probe failed: HTTP probe failed with statuscode: 503/m);
        assert.match(r.stderr, /hint: inspect with "kubectl -n mesh-system describe pods -l app\.kubernetes\.io\/name=mesh-controller"/);
        assert.equal(await getJson(c, '/apis/admissionregistration.k8s.io/v1/mutatingwebhookconfigurations/mesh-sidecar-injector'), undefined);
      } finally {
        unsubscribe();
      }
    },
    { ready: false },
  );
});
