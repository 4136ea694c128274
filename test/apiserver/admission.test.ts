// Admission webhooks: the server calls the webhooks registered in it, on loopback, like the
// real API server (this is how sidecar injection can be tested end to end).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { servingCerts } from '../support/apiserver/certs.ts';
import { startApiServer, startKubelet, type Kubelet, type TestCluster } from '../support/kube.ts';

let c: TestCluster;
let hook: Server;
let kubelet: Kubelet;
const reviews: any[] = [];

before(async () => {
  c = await startApiServer();
  kubelet = startKubelet(c.server);
  const certs = await servingCerts();
  // A webhook: injects a sidecar into pods; denies pods labelled deny=yes.
  hook = createServer({ key: certs.keyPem, cert: certs.certPem }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (d: Buffer) => chunks.push(d));
    req.on('end', () => {
      const review = JSON.parse(Buffer.concat(chunks).toString());
      reviews.push({ path: req.url, review });
      const r = review.request;
      let response: any = { uid: r.uid, allowed: true };
      if (req.url!.startsWith('/inject')) {
        const patch = [{ op: 'add', path: '/spec/containers/-', value: { name: 'proxy', image: 'mesh/proxy:1' } }];
        response = { ...response, patchType: 'JSONPatch', patch: Buffer.from(JSON.stringify(patch)).toString('base64') };
      } else if (r.object.metadata.labels?.deny === 'yes') {
        response = { uid: r.uid, allowed: false, status: { code: 403, message: 'pods labelled deny=yes are not welcome' } };
      }
      res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response }));
    });
  });
  await new Promise<void>((r) => hook.listen(0, '127.0.0.1', r));
  const port = (hook.address() as { port: number }).port;
  c.server.webhookServices.set('mesh-system/mesh-sidecar-injector', `https://127.0.0.1:${port}`);
  const caBundle = Buffer.from(certs.caPem).toString('base64');
  c.server.seed([
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'meshed', labels: { 'mesh.dev/inject': 'enabled' } } },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'plain' } },
    {
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'inject' },
      webhooks: [{ name: 'inject.mesh.dev', admissionReviewVersions: ['v1'], sideEffects: 'None', failurePolicy: 'Fail', namespaceSelector: { matchLabels: { 'mesh.dev/inject': 'enabled' } }, rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }], clientConfig: { caBundle, service: { namespace: 'mesh-system', name: 'mesh-sidecar-injector', path: '/inject', port: 443 } } }],
    },
    {
      apiVersion: 'admissionregistration.k8s.io/v1', kind: 'ValidatingWebhookConfiguration', metadata: { name: 'deny' },
      webhooks: [{ name: 'deny.test', admissionReviewVersions: ['v1'], sideEffects: 'None', objectSelector: { matchLabels: { deny: 'yes' } }, rules: [{ operations: ['CREATE', 'UPDATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['pods'] }], clientConfig: { caBundle, url: `https://127.0.0.1:${port}/validate` } }],
    },
  ]);
});
after(async () => {
  kubelet.stop();
  await c.stop();
  await new Promise((r) => hook.close(r));
});

const pod = (name: string, labels: Record<string, string> = {}) => JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, labels }, spec: { containers: [{ name: 'app', image: 'app:1' }] } });

test('a mutating webhook selected by namespace label patches pods created in that namespace only', async () => {
  const r = await c.request('POST', '/api/v1/namespaces/meshed/pods', { body: pod('p1') });
  assert.equal(r.status, 201, r.body);
  assert.deepEqual(r.json.spec.containers.map((x: any) => x.name), ['app', 'proxy']);
  const review = reviews.find((x) => x.path.startsWith('/inject') && x.review.request.object.metadata.name === 'p1').review;
  assert.equal(review.request.operation, 'CREATE');
  assert.deepEqual(review.request.kind, { group: '', version: 'v1', kind: 'Pod' });
  assert.equal(review.request.namespace, 'meshed');
  assert.equal(review.request.userInfo.username, 'admin');
  const plain = await c.request('POST', '/api/v1/namespaces/plain/pods', { body: pod('p2') });
  assert.deepEqual(plain.json.spec.containers.map((x: any) => x.name), ['app']);
});

test('pods the kubelet helper creates for a Deployment go through admission too', async () => {
  c.server.seed([{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'meshed' }, spec: { replicas: 2, selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web' } }, spec: { containers: [{ name: 'app', image: 'app:1' }] } } } }]);
  await kubelet.idle();
  const pods = c.server.api.list(c.server.resource('', 'Pod'), 'meshed', { labelSelector: 'app=web' }).items as any[];
  assert.equal(pods.length, 2);
  assert.ok(pods.every((p) => p.spec.containers.some((x: any) => x.name === 'proxy')));
  assert.equal((c.server.store.get(c.server.resource('apps', 'Deployment'), 'meshed', 'web') as any).status.readyReplicas, 2);
});

test('a validating webhook denial is the request error, with the webhook name and message', async () => {
  const r = await c.request('POST', '/api/v1/namespaces/plain/pods', { body: pod('bad', { deny: 'yes' }) });
  assert.equal(r.status, 403);
  assert.equal(r.json.message, 'admission webhook "deny.test" denied the request: pods labelled deny=yes are not welcome');
  assert.equal(c.server.store.get(c.server.resource('', 'Pod'), 'plain', 'bad'), undefined);
  // An update that makes the pod match is checked too.
  await c.request('POST', '/api/v1/namespaces/plain/pods', { body: pod('later') });
  const patched = await c.request('PATCH', '/api/v1/namespaces/plain/pods/later', { body: JSON.stringify({ metadata: { labels: { deny: 'yes' } } }), headers: { 'Content-Type': 'application/merge-patch+json' } });
  assert.equal(patched.status, 403);
});

test('an unreachable webhook fails the request with failurePolicy Fail, and is skipped with Ignore', async () => {
  c.server.seed([{ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'broken' }, webhooks: [{ name: 'broken.test', failurePolicy: 'Fail', admissionReviewVersions: ['v1'], sideEffects: 'None', rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }], clientConfig: { service: { namespace: 'nowhere', name: 'gone' } } }] }]);
  const r = await c.request('POST', '/api/v1/namespaces/plain/configmaps', { body: JSON.stringify({ metadata: { name: 'cm' } }) });
  assert.equal(r.status, 500);
  assert.match(r.json.message, /^Internal error occurred: failed calling webhook "broken.test": failed to call webhook: Post "https:\/\/gone\.nowhere\.svc:443\?timeout=10s": /);
  c.server.seed([{ apiVersion: 'admissionregistration.k8s.io/v1', kind: 'MutatingWebhookConfiguration', metadata: { name: 'broken' }, webhooks: [{ name: 'broken.test', failurePolicy: 'Ignore', admissionReviewVersions: ['v1'], sideEffects: 'None', rules: [{ operations: ['CREATE'], apiGroups: [''], apiVersions: ['v1'], resources: ['configmaps'] }], clientConfig: { service: { namespace: 'nowhere', name: 'gone' } } }] }]);
  const ok = await c.request('POST', '/api/v1/namespaces/plain/configmaps', { body: JSON.stringify({ metadata: { name: 'cm' } }) });
  assert.equal(ok.status, 201);
});
