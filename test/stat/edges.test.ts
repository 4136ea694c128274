import { captureUi } from '../support/ui.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectEdges, runEdges, validateEdgesOptions } from '../../src/status/edges.ts';
import type { MeshError } from '../../src/errors.ts';
import { fakeCluster } from './support/fake-cluster.ts';
import { shopObjects, shopProxyText } from './support/shop.ts';
import { envoyText } from './support/envoy.ts';

const shop = (text: (pod: string) => string = (p) => shopProxyText(p, 0)) => fakeCluster(shopObjects(), (t) => ({ status: 200, body: text(t.pod) }));

test('validateEdgesOptions: a kind is required, a name is not allowed, trust domain checked', () => {
  assert.equal(validateEdgesOptions({ resource: 'deploy', namespace: 'shop', allNamespaces: false, output: 'table' }).resource.kind, 'deploy');
  assert.equal(validateEdgesOptions({ resource: 'po', allNamespaces: true, output: 'json' }).namespace, undefined);
  for (const [raw, re] of [[{ resource: undefined }, /name what to show/], [{ resource: 'deploy/web' }, /takes a kind/], [{ resource: 'deploy', trustDomain: 'Bad Domain' }, /trust domain/]] as const) {
    assert.throws(() => validateEdgesOptions({ namespace: 'shop', allNamespaces: false, output: 'table', ...raw }), (e: MeshError) => e.exitCode === 2 && re.test(e.message));
  }
});

test('edges deploy: web -> catalog with both SPIFFE identities, secured when every connection used mTLS', async () => {
  const { edges } = await collectEdges(shop(), validateEdgesOptions({ resource: 'deploy', namespace: 'shop', allNamespaces: false, output: 'json' }));
  assert.deepEqual(edges, [{
    src: 'web', srcNamespace: 'shop', dst: 'catalog', dstNamespace: 'shop',
    clientIds: ['spiffe://cluster.local/ns/shop/sa/web'], serverIds: ['spiffe://cluster.local/ns/shop/sa/catalog'], identitySource: 'serviceaccounts',
    secured: 'yes', mtlsShare: 1, requests: 100, connections: 2, errors: [],
  }]);
});

test('edges: identities are the certificates the controller issued (its /debug/syncz), where it reports one', async () => {
  const controller = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'mesh-controller-0', namespace: 'mesh-system', labels: { 'app.kubernetes.io/name': 'mesh-controller' } }, spec: {}, status: { phase: 'Running' } };
  const proxy = (pod: string, spiffeId: string, authenticated = true) => ({ id: `${pod}.shop`, kind: 'sidecar', namespace: 'shop', pod, connected: true, streams: [], identity: { authenticated, transport: 'tls', spiffeId, certificate: { serial: '01', notBefore: '', notAfter: '' } }, certificate: { serial: '01', notBefore: '', notAfter: '' } });
  // The controller vouches for web-1 and web-2 (issued under another trust domain, to tell them apart) but not for catalog-2's refused stream.
  const syncz = { generation: 1, ready: true, proxies: [proxy('web-1', 'spiffe://corp.example/ns/shop/sa/web'), proxy('web-2', 'spiffe://corp.example/ns/shop/sa/web'), proxy('catalog-1', 'spiffe://corp.example/ns/shop/sa/catalog'), proxy('catalog-2', 'spiffe://corp.example/ns/shop/sa/catalog', false)] };
  const cluster = fakeCluster([...shopObjects(), controller], (t, path) => (t.namespace === 'mesh-system' ? { status: 200, body: path === '/debug/syncz' ? JSON.stringify(syncz) : '{}' } : { status: 200, body: shopProxyText(t.pod, 0) }));
  const { edges, warnings } = await collectEdges(cluster, validateEdgesOptions({ resource: 'deploy', namespace: 'shop', allNamespaces: false, output: 'json' }));
  assert.deepEqual(warnings, []);
  assert.deepEqual(edges.map((e) => [e.clientIds, e.serverIds, e.identitySource]), [[
    ['spiffe://corp.example/ns/shop/sa/web'],
    ['spiffe://cluster.local/ns/shop/sa/catalog', 'spiffe://corp.example/ns/shop/sa/catalog'],
    'mixed',
  ]]);
  const none = await collectEdges(shop(), validateEdgesOptions({ resource: 'deploy', namespace: 'shop', allNamespaces: false, output: 'json' }));
  assert.match(none.warnings.join('\n'), /identities are derived from ServiceAccounts: controller unreachable/);
});

test('edges: plain-text connections show as not secured; pods and services as kinds', async () => {
  const plain = (pod: string) => (pod.startsWith('web') ? envoyText({ outbound: { 'outbound|80||catalog.shop.svc.cluster.local': { requests: 5, cxTotal: 4, tls: 1 } } }) : shopProxyText(pod, 0));
  const s = validateEdgesOptions({ resource: 'pod', namespace: 'shop', allNamespaces: false, output: 'table' });
  const { edges } = await collectEdges(shop(plain), s);
  assert.deepEqual(edges.map((e) => `${e.src}>${e.dst} ${e.secured}`), ['web-1>catalog-1 partial', 'web-1>catalog-2 partial', 'web-2>catalog-1 partial', 'web-2>catalog-2 partial']);
  const svc = await collectEdges(shop(), validateEdgesOptions({ resource: 'svc', namespace: 'shop', allNamespaces: false, output: 'table' }));
  assert.deepEqual(svc.edges.map((e) => `${e.src}>${e.dst}`), ['web>catalog']);
});

test('edges table and wide output; no proxies is a warning, not an error', async () => {
  const c = captureUi({ yes: true });
  await runEdges(validateEdgesOptions({ resource: 'deploy', namespace: 'shop', allNamespaces: false, output: 'wide' }), c.ui, shop());
  assert.match(c.out(), /^SRC\s+DST\s+SRC_NS\s+DST_NS\s+SECURED\s+CLIENT_ID\s+SERVER_ID\s+REQUESTS\s+ERRORS\nweb\s+catalog\s+shop\s+shop\s+√\s+spiffe:\/\/cluster.local\/ns\/shop\/sa\/web\s+spiffe:\/\/cluster.local\/ns\/shop\/sa\/catalog\s+100\s+-\n$/);
  const e = captureUi({ yes: true });
  const empty = fakeCluster([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bare' } }], () => ({ status: 500, body: '' }));
  await runEdges(validateEdgesOptions({ resource: 'deploy', namespace: 'bare', allNamespaces: false, output: 'table' }), e.ui, empty);
  assert.equal(e.out(), 'No edges found in namespace bare.\n');
  assert.match(e.err(), /no proxies found.*mesh inject/);
});
