import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster } from '../../src/cluster/types.ts';
import { connect } from '../../src/cluster/index.ts';
import { VERSION } from '../../src/version.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';
import { check, failing, healthy, ready, recordCreates, status, useRoots, type Obj } from './live-support.ts';

useRoots();

test('a healthy mesh passes every post-install check; the DNS lookup pod is created, and skipped when it cannot run', async () => {
  const { report, code, cluster } = await check();
  assert.deepEqual(failing(report), [], JSON.stringify(report.checks.filter((c) => c.status !== 'pass'), null, 2));
  assert.equal(code, 0);
  assert.equal(report.ok, true);
  const dns = report.checks.find((c) => c.id === 'dns.service-resolution')!;
  assert.equal(dns.status, 'skip');
  assert.match(dns.message, /lookup pod mesh-system\/mesh-check-dns-\w+ did not finish/);
  const posted = cluster.server.requests.filter((r) => r.method === 'POST' && r.path === '/api/v1/namespaces/mesh-system/pods');
  assert.equal(posted.length, 1, 'one lookup pod was created');
  const deleted = cluster.server.requests.filter((r) => r.method === 'DELETE' && r.path.startsWith('/api/v1/namespaces/mesh-system/pods/mesh-check-dns-'));
  assert.equal(deleted.length, 1, 'and deleted again');
  assert.ok(status(report, 'identity.root-ca') === 'pass' && status(report, 'data-plane.proxies-synced') === 'pass');
});

test('syncz unreachable: the sync checks skip, saying why, and the rest still report', async () => {
  const { report, code } = await check({ syncz: null });
  const s = report.checks.find((c) => c.id === 'data-plane.proxies-synced')!;
  assert.equal(s.status, 'skip');
  assert.match(s.message, /cannot read \/debug\/syncz from the control plane/);
  assert.equal(status(report, 'identity.proxy-certificates'), 'skip');
  assert.equal(code, 0, 'skips do not fail the run');
});

test('a user who may not create pods: the DNS lookup is skipped with the reason; forbidden lists skip, not fail', async () => {
  const { report } = await check({
    setup: (c) => {
      const token = c.server.addUser('viewer', [{ verbs: ['get', 'list'], apiGroups: ['*'], resources: ['*'] }]);
      (c as { kubeconfigPath: string }).kubeconfigPath = c.kubeconfigFor(token, 'viewer');
      c.server.auth.deny({ verbs: ['get'], apiGroups: [''], resources: ['secrets'] });
    },
  });
  const dns = report.checks.find((c) => c.id === 'dns.service-resolution')!;
  assert.equal(dns.status, 'skip');
  assert.match(dns.message, /not allowed to create pods in mesh-system/);
  const root = report.checks.find((c) => c.id === 'identity.root-ca')!;
  assert.equal(root.status, 'skip');
  assert.equal(root.reason, 'forbidden');
  assert.match(root.message, /not allowed: .*secrets/);
  assert.equal(status(report, 'control-plane.pods-ready'), 'pass', 'what may be read is still checked');
});

test('a timed-out check fails with "timed out" and does not hide the others', async () => {
  const { report, code } = await check({ flags: { timeout: '1s' }, setup: (c) => void c.server.addFault({ resource: 'secrets', delayMs: 3000 }) });
  const root = report.checks.find((c) => c.id === 'identity.root-ca')!;
  assert.equal(root.status, 'fail');
  assert.equal(root.reason, 'timeout');
  assert.match(root.message, /timed out after 1s/);
  assert.equal(status(report, 'control-plane.pods-ready'), 'pass');
  assert.equal(code, 1);
});

test('--wait retries until the cluster becomes healthy', async () => {
  let rounds = 0;
  const { report, code } = await check({
    flags: { wait: '30s' },
    edit: (o) => o.map((x) => (x.metadata.name === 'mesh-controller-1' ? { ...x, status: { phase: 'Pending' } } : x)),
    wrap: (c) => ({
      ...c,
      contextName: c.contextName,
      server: c.server,
      serverVersion: () => c.serverVersion(),
      list: async (v, k, o) => {
        const items = await c.list(v, k, o);
        if (k === 'Pod' && o?.namespace === 'mesh-system' && ++rounds >= 3) return items.map((p) => ({ ...p, status: ready }));
        return items;
      },
      get: (...a) => c.get(...a),
      apply: (...a) => c.apply(...a),
      delete: (...a) => c.delete(...a),
      canI: (a) => c.canI(a),
      create: (o) => c.create(o),
      proxyGet: (t, p) => c.proxyGet!(t, p),
      podLogs: (...a) => c.podLogs(...a),
    }),
  });
  assert.equal(code, 0, JSON.stringify(failing(report)));
  assert.ok(rounds >= 3, 'it ran more than once');
});

test('pre-install: a fresh cluster passes; each pre-install problem is seen failing', async () => {
  const fresh: Obj[] = [healthy().find((x) => x.metadata.name === 'kube-dns')!, healthy().find((x) => x.metadata.name === 'kube-dns-abc')!];
  const ok = await check({ seed: fresh, flags: { pre: true } });
  assert.deepEqual(failing(ok.report), ['gateway-api.httproute-crd'], 'only the missing HTTPRoute CRD warns');
  assert.equal(ok.code, 0);
  assert.ok(ok.report.checks.filter((c) => c.id.startsWith('permissions.')).length >= 10);

  const broken = await check({
    seed: [
      ...fresh,
      { apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'istio-sidecar-injector' }, webhooks: [{ name: 'sidecar-injector.istio.io', admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: { url: 'https://127.0.0.1:1/inject' }, rules: [{ apiGroups: [''], apiVersions: ['v1'], operations: ['CREATE'], resources: ['pods'] }] }] },
      { ...healthy().find((x) => x.kind === 'CustomResourceDefinition')!, metadata: { name: 'authorizationpolicies.mesh.dev', labels: { 'app.kubernetes.io/version': '9.4.0' } } },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop', labels: { 'mesh.dev/inject': 'enabled', 'pod-security.kubernetes.io/enforce': 'baseline' } } },
    ],
    flags: { pre: true },
    setup: (c) => {
      const token = c.server.addUser('dev', [{ verbs: ['get', 'list'], apiGroups: ['*'], resources: ['*'] }]);
      (c as { kubeconfigPath: string }).kubeconfigPath = c.kubeconfigFor(token, 'dev');
    },
  });
  const f = failing(broken.report);
  for (const id of ['other-meshes.injectors', 'crds.compatible', 'pod-security.net-admin', 'permissions.customresourcedefinitions', 'permissions.deployments']) assert.ok(f.includes(id), `${id} should fail: ${f.join(', ')}`);
  assert.equal(broken.code, 1);
  const perm = broken.report.checks.find((c) => c.id === 'permissions.deployments')!;
  assert.match(perm.message, /not allowed to create deployments\.apps in namespace mesh-system/);

  const old = await check({ seed: fresh, flags: { pre: true }, wrap: (c) => Object.assign(Object.create(Object.getPrototypeOf(c)), c, { serverVersion: async () => ({ major: '1', minor: '25', gitVersion: 'v1.25.3' }) }) });
  assert.deepEqual(failing(old.report), ['kubernetes-api.version', 'gateway-api.httproute-crd']);
});

test('unreachable API server: exit 3, every check says why, still one JSON document', async () => {
  const { report, code, stderr } = await check({ setup: async (c) => c.server.stop() });
  assert.equal(code, 3);
  assert.equal(report.exitCode, 3);
  assert.ok(report.checks.every((c) => c.reason === 'unreachable' || c.reason === 'timeout'));
  assert.match(stderr, /^error: cannot reach the Kubernetes API server/m);
});

test('runPreInstallChecks (what mesh install calls) returns results and ok, never throwing for a failed check', async () => {
  const { runPreInstallChecks } = await import('../../src/checks/index.ts');
  const cluster = await startApiServer();
  try {
    const c = await connect({ kubeconfig: cluster.kubeconfigPath });
    const clean = await runPreInstallChecks(c);
    assert.equal(clean.ok, false, 'no cluster DNS in an empty test server');
    assert.deepEqual(clean.results.filter((r) => r.result.status === 'fail').map((r) => r.result.id), ['dns.cluster-dns']);
    cluster.server.seed(healthy().filter((x) => x.metadata.name === 'kube-dns' || x.metadata.name === 'kube-dns-abc'));
    const ok = await runPreInstallChecks(await connect({ kubeconfig: cluster.kubeconfigPath }));
    assert.equal(ok.ok, true);
    assert.ok(ok.results.some((r) => r.result.id === 'permissions.mutatingwebhookconfigurations' && r.result.status === 'pass'));
  } finally {
    await cluster.stop();
  }
});

test('the DNS lookup pod is labelled as ours, opted out of injection, unprivileged and bounded in time', async () => {
  const created: Obj[] = [];
  await check({
    wrap: recordCreates(created),
  });
  assert.equal(created.length, 1);
  const pod = created[0]!;
  assert.equal(pod.metadata.namespace, 'mesh-system');
  assert.equal(pod.metadata.labels['app.kubernetes.io/part-of'], 'mesh');
  assert.equal(pod.metadata.labels['app.kubernetes.io/managed-by'], 'mesh');
  assert.equal(pod.metadata.labels['app.kubernetes.io/version'], VERSION);
  assert.equal(pod.metadata.annotations['mesh.dev/inject'], 'disabled');
  assert.equal(pod.spec.restartPolicy, 'Never');
  assert.ok(pod.spec.activeDeadlineSeconds > 0);
  assert.equal(pod.spec.automountServiceAccountToken, false);
  assert.equal(pod.spec.containers[0].securityContext.runAsNonRoot, true);
  assert.match(pod.spec.containers[0].command[2], /nslookup "\$h"/);
  assert.match(pod.spec.containers[0].command[2], /web\.shop\.svc\.cluster\.local/);
});

test('DNS lookup: the pod runs, its nslookup log is compared with each ClusterIP (resolves: pass; NXDOMAIN: warning)', async () => {
  for (const resolves of [true, false]) {
    let server: TestCluster | undefined;
    const { report } = await check({
      // The pod has finished by the first look; the deadline only bounds a broken stand-in.
      live: { dnsPodTimeoutMs: 30_000 },
      setup: (c) => void (server = c),
      wrap: (c) => {
        const w = Object.create(c) as Cluster;
        // Stand in for the kubelet: the lookup pod "runs" at once and logs what nslookup would print.
        w.create = async (o) => {
          const made = await c.create(o);
          const svc = await c.get('v1', 'Service', 'web', 'shop');
          const ip = String((svc?.spec as Obj).clusterIP);
          const host = 'web.shop.svc.cluster.local';
          const log = resolves ? `== ${host}\nServer: 10.96.0.10\nAddress: 10.96.0.10:53\n\nName: ${host}\nAddress: ${ip}\n` : `== ${host}\nServer: 10.96.0.10\nAddress: 10.96.0.10:53\n\n** server can't find ${host}: NXDOMAIN\n`;
          server!.server.setPodLogs('mesh-system', o.metadata.name, 'lookup', log);
          server!.server.seed([{ ...o, status: { phase: 'Succeeded' } }]);
          return made;
        };
        return w;
      },
    });
    const dns = report.checks.find((c) => c.id === 'dns.service-resolution')!;
    if (resolves) {
      assert.equal(dns.status, 'pass', JSON.stringify(dns));
      assert.match(dns.message, /1 Service\(s\) resolve to their ClusterIP/);
    } else {
      assert.equal(dns.status, 'warn', JSON.stringify(dns));
      assert.match(dns.details!.join('\n'), /web\.shop\.svc\.cluster\.local did not resolve \(ClusterIP \S+\)/);
    }
  }
});
