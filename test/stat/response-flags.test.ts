import { test } from 'node:test';
import assert from 'node:assert/strict';
import { captureUi } from '../support/ui.ts';
import { collectEdges, runEdges, validateEdgesOptions } from '../../src/status/edges.ts';
import { validateStatOptions, type RawStatOptions, type StatReport } from '../../src/status/stat.ts';
import { runStat } from '../../src/commands/stat-run.ts';
import { decodeResponseFlags, RESPONSE_FLAGS } from '../../src/metrics/response-flags.ts';
import { fakeCluster } from './support/fake-cluster.ts';
import { CATALOG_CLUSTER, shopObjects, shopProxyText } from './support/shop.ts';

/** Opaque errors in words (issue 21 point 4): Envoy's failure counters decoded by response flag. */

/** The shop's proxies, with failure counters that grow by `per` each scrape: RBAC denials on catalog, no healthy upstream on web's calls. */
function failing(per = 1) {
  const scrapes = new Map<string, number>();
  const cluster = fakeCluster(shopObjects(), (t) => {
    const n = scrapes.get(t.pod) ?? 0;
    scrapes.set(t.pod, n + 1);
    let body = shopProxyText(t.pod, n);
    if (t.pod.startsWith('catalog')) body += `envoy_http_rbac_denied{envoy_http_conn_manager_prefix="inbound_8080"} ${5 * per * (n + 1)}\n`;
    if (t.pod.startsWith('web')) body += `envoy_cluster_upstream_cx_none_healthy{envoy_cluster_name="${CATALOG_CLUSTER}"} ${2 * per * (n + 1)}\nenvoy_cluster_upstream_rq_pending_overflow{envoy_cluster_name="${CATALOG_CLUSTER}"} ${per * (n + 1)}\n`;
    return { status: 200, body };
  });
  let clock = 1_000_000;
  return { cluster, now: () => clock, sleep: async (ms: number) => { clock += ms; } };
}

const base: RawStatOptions = { resource: 'deploy', namespace: 'shop', allNamespaces: false, watch: false, output: 'json' };

test('mesh stat: failures by response flag in words (-o json errors, -o wide ERRORS)', async () => {
  const c = captureUi({ yes: true });
  await runStat(validateStatOptions(base), c.ui, failing());
  const r = JSON.parse(c.out()) as StatReport;
  const catalog = r.rows.find((x) => x.name === 'catalog')!;
  // Two catalog pods, each +5 denials between the two scrapes.
  assert.deepEqual(catalog.errors, [{ flag: 'RBAC', words: 'denied by AuthorizationPolicy (RBAC)', count: 10 }]);
  assert.deepEqual(r.rows.find((x) => x.name === 'web')!.errors, [], 'inbound rows count inbound failures only');
  const out = captureUi({ yes: true });
  await runStat(validateStatOptions({ ...base, resource: 'deploy/web', to: 'svc/catalog', output: 'wide' }), out.ui, failing());
  assert.match(out.out(), /ERRORS/);
  assert.match(out.out(), /\d+ UH no healthy upstream, \d+ UO circuit breaker open \(upstream overflow\)/);
});

test('mesh edges: each edge says how its calls failed, in words', async () => {
  const opts = validateEdgesOptions({ resource: 'deploy', namespace: 'shop', allNamespaces: false, output: 'wide' });
  const { edges } = await collectEdges(failing().cluster, opts);
  const e = edges.find((x) => x.src === 'web' && x.dst === 'catalog')!;
  assert.deepEqual(e.errors.map((f) => [f.flag, f.words]), [['UH', 'no healthy upstream'], ['UO', 'circuit breaker open (upstream overflow)']]);
  const c = captureUi({ yes: true });
  await runEdges(opts, c.ui, failing().cluster);
  assert.match(c.out(), /UH no healthy upstream/);
});

test('calls outboundTrafficPolicy registry-only refused show as BLOCKED: an edge of their own in mesh edges, in words', async () => {
  let n = 0;
  const cluster = fakeCluster(shopObjects(), (t) => {
    n++;
    let body = shopProxyText(t.pod, 0);
    // What Envoy counts when a call is routed to the endpoint-less BlockedByRegistryOnly cluster.
    if (t.pod.startsWith('web')) body += `envoy_cluster_upstream_cx_none_healthy{envoy_cluster_name="BlockedByRegistryOnly"} 4\n`;
    return { status: 200, body };
  });
  const { edges } = await collectEdges(cluster, validateEdgesOptions({ resource: 'deploy', namespace: 'shop', allNamespaces: false, output: 'wide' }));
  assert.ok(n > 0);
  const e = edges.find((x) => x.src === 'web' && x.dst === 'blocked-by-registry-only')!;
  assert.ok(e, `an edge to the blocked destination: ${JSON.stringify(edges.map((x) => `${x.src}->${x.dst}`))}`);
  // Two web pods, 4 refused calls each.
  assert.deepEqual(e.errors, [{ flag: 'BLOCKED', words: 'blocked by outboundTrafficPolicy registry-only (no ExternalService registers the host)', count: 8 }]);
  assert.ok(!edges.some((x) => x.dst === 'catalog' && x.errors.some((f) => f.flag === 'BLOCKED')), 'only that edge');
});

test('access-log response flags decode with the same table; unknown codes are kept', () => {
  assert.deepEqual(decodeResponseFlags('UF,URX').map((f) => f.words), ['upstream connect failure', 'retry limit exceeded']);
  assert.deepEqual(decodeResponseFlags('-'), []);
  assert.deepEqual(decodeResponseFlags('ZZ'), [{ flag: 'ZZ', long: 'ZZ', words: 'ZZ' }]);
  assert.equal(new Set(RESPONSE_FLAGS.map((f) => f.flag)).size, RESPONSE_FLAGS.length, 'one entry per flag');
});
