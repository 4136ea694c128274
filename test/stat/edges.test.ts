import { captureUi } from '../support/ui.ts';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { collectEdges, runEdges, validateEdgesOptions } from '../../src/diagnostics/edges.ts';
import type { MeshError } from '../../src/ui/errors.ts';
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
    clientIds: ['spiffe://cluster.local/ns/shop/sa/web'], serverIds: ['spiffe://cluster.local/ns/shop/sa/catalog'],
    secured: 'yes', mtlsShare: 1, requests: 100, connections: 2,
  }]);
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
  assert.match(c.out(), /^SRC\s+DST\s+SRC_NS\s+DST_NS\s+SECURED\s+CLIENT_ID\s+SERVER_ID\s+REQUESTS\nweb\s+catalog\s+shop\s+shop\s+√\s+spiffe:\/\/cluster.local\/ns\/shop\/sa\/web\s+spiffe:\/\/cluster.local\/ns\/shop\/sa\/catalog\s+100\n$/);
  const e = captureUi({ yes: true });
  const empty = fakeCluster([{ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'bare' } }], () => ({ status: 500, body: '' }));
  await runEdges(validateEdgesOptions({ resource: 'deploy', namespace: 'bare', allNamespaces: false, output: 'table' }), e.ui, empty);
  assert.equal(e.out(), 'No edges found in namespace bare.\n');
  assert.match(e.err(), /no proxies found.*mesh inject/);
});
