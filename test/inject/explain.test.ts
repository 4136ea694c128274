// mesh inject --explain: whether and why the webhook would inject, from the same decision the
// webhook makes. The agreement test runs the real webhook behind the test API server, which applies
// the rendered MutatingWebhookConfiguration's selectors as the real one does.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Server } from 'node:https';
import { toYaml } from '../../src/cluster/yaml.ts';
import { startWebhook } from '../../src/controller/webhook.ts';
import { renderManifests } from '../../src/manifests/render.ts';
import { loadTemplates } from '../../src/install/templates.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { servingCerts } from '../support/apiserver/certs.ts';
import { startApiServer, type TestCluster } from '../support/kube.ts';
import { runMeshInProcess } from '../support/cli.ts';

const NAMESPACES: Record<string, Record<string, string>> = {
  meshed: { 'mesh.dev/inject': 'enabled' },
  plain: {},
  optout: { 'mesh.dev/inject': 'disabled' },
  'kube-system': { 'mesh.dev/inject': 'enabled' },
};

interface Case { name: string; ns: string; labels?: Record<string, string>; annotations?: Record<string, string>; spec?: Record<string, unknown>; inject: boolean; deciding: string }
const app = [{ name: 'app', image: 'app:1' }];
const CASES: Case[] = [
  { name: 'plain-pod', ns: 'meshed', inject: true, deciding: 'inject' },
  { name: 'ns-not-labelled', ns: 'plain', annotations: { 'mesh.dev/inject': 'enabled' }, inject: false, deciding: 'webhook.namespaceSelector' },
  { name: 'label-opt-out', ns: 'meshed', labels: { 'mesh.dev/inject': 'disabled' }, inject: false, deciding: 'webhook.objectSelector' },
  { name: 'annotation-opt-out', ns: 'meshed', annotations: { 'mesh.dev/inject': 'disabled' }, inject: false, deciding: 'pod.annotation' },
  { name: 'host-network', ns: 'meshed', spec: { hostNetwork: true, containers: app }, inject: false, deciding: 'pod.hostNetwork' },
  { name: 'other-mesh', ns: 'meshed', spec: { containers: [...app, { name: 'linkerd-proxy', image: 'l:1' }] }, inject: false, deciding: 'pod.otherMesh' },
  { name: 'name-conflict', ns: 'meshed', spec: { containers: [...app, { name: 'mesh-proxy', image: 'x:1' }] }, inject: false, deciding: 'pod.names' },
  { name: 'kube-system-pod', ns: 'kube-system', inject: false, deciding: 'webhook.namespaceSelector' },
  { name: 'ns-opted-out', ns: 'optout', inject: false, deciding: 'webhook.namespaceSelector' },
  { name: 'bad-annotation', ns: 'meshed', annotations: { 'mesh.dev/inject': 'yes' }, inject: false, deciding: 'inject' },
];
const pod = (c: Case, name = c.name) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: c.ns, ...(c.labels ? { labels: c.labels } : {}), ...(c.annotations ? { annotations: c.annotations } : {}) }, spec: c.spec ?? { containers: app } });
// The API server labels every namespace with its name (seeding skips that: set it here).
const nsObjects = () => Object.entries(NAMESPACES).map(([name, labels]) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name, labels: { ...labels, 'kubernetes.io/metadata.name': name } } }));

let c: TestCluster;
let hook: Server;
let dir: string;

before(async () => {
  c = await startApiServer();
  const certs = await servingCerts();
  ({ server: hook } = await startWebhook(certs, { host: '127.0.0.1', port: 0 }, { values: () => Promise.resolve(resolveValues()), nativeSidecar: () => false, namespaceLabels: (ns) => Promise.resolve(NAMESPACES[ns]) }));
  const port = (hook.address() as { port: number }).port;
  c.server.webhookServices.set('mesh-system/mesh-controller', `https://127.0.0.1:${port}`);
  const mwc = renderManifests(resolveValues(), loadTemplates()).find((o) => o.kind === 'MutatingWebhookConfiguration')!;
  for (const w of mwc.webhooks as { clientConfig: { caBundle?: string } }[]) w.clientConfig.caBundle = Buffer.from(certs.caPem).toString('base64');
  // Seeded objects skip admission: they are what --explain reads before anything is created.
  c.server.seed([...nsObjects(), mwc, ...CASES.map((x) => pod(x))]);
  dir = mkdtempSync(join(tmpdir(), 'mesh-explain-'));
  writeFileSync(join(dir, 'all.yaml'), [...nsObjects(), ...CASES.map((x) => pod(x))].map((o) => toYaml(o)).join('---\n'));
});
after(async () => {
  hook.close();
  hook.closeAllConnections();
  await c.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function explainJson(args: string[]): Promise<{ inject: boolean; summary: string; webhook: string; steps: { condition: string; outcome: string; detail: string }[] }> {
  const r = await runMeshInProcess(['inject', '--explain', ...args, '-o', 'json']);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}
const deciding = (e: { steps: { condition: string; outcome: string }[] }) => e.steps.find((s) => s.outcome === 'stop')?.condition ?? 'inject';

test('the webhook behind the API server and --explain (live and offline) agree on every case', { timeout: 30_000 }, async () => {
  for (const x of CASES) {
    const created = await c.request('POST', `/api/v1/namespaces/${x.ns}/pods`, { body: JSON.stringify(pod(x, `${x.name}-created`)) });
    // Injected: the API server created it with the patch the webhook sent (its status annotation).
    const injected = created.status === 201 && created.json.metadata.annotations?.['mesh.dev/status'] !== undefined;
    assert.equal(injected, x.inject, `${x.name}: the webhook ${injected ? 'injected' : 'did not inject'} (HTTP ${created.status})`);
    const live = await explainJson([`pod/${x.name}`, '-n', x.ns, '--kubeconfig', c.kubeconfigPath]);
    assert.equal(live.inject, injected, `${x.name}: live --explain says ${live.summary}`);
    assert.equal(deciding(live), x.deciding, `${x.name}: ${JSON.stringify(live.steps)}`);
    assert.equal(live.webhook, 'cluster');
    const offline = await explainJson([x.name, '-n', x.ns, '-f', dir]);
    assert.equal(offline.inject, injected, `${x.name}: offline --explain says ${offline.summary}`);
    assert.equal(deciding(offline), x.deciding, x.name);
    assert.equal(offline.webhook, 'default rendering');
  }
});

test('--explain names the namespace label a pod opt-in cannot replace (istio#30806), in words', async () => {
  const r = await runMeshInProcess(['inject', '--explain', 'ns-not-labelled', '-n', 'plain', '--kubeconfig', c.kubeconfigPath]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /pod\/ns-not-labelled in namespace plain: not injected: namespace plain is not labelled mesh\.dev\/inject=enabled/);
  assert.match(r.stdout, /kubectl label namespace plain mesh\.dev\/inject=enabled/);
  assert.match(r.stdout, /annotation mesh\.dev\/inject=enabled is never read/);
});

test('--explain reads a Deployment\'s pod template, and the webhook configuration among the files when there is one', async () => {
  const deploy = { apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'web', namespace: 'meshed' }, spec: { selector: { matchLabels: { app: 'web' } }, template: { metadata: { labels: { app: 'web', tier: 'canary' } }, spec: { containers: app } } } };
  const mwc = renderManifests(resolveValues(), loadTemplates()).find((o) => o.kind === 'MutatingWebhookConfiguration')!;
  (mwc.webhooks as { objectSelector: unknown }[])[0]!.objectSelector = { matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['canary'] }] };
  const f = join(dir, 'custom.yaml');
  writeFileSync(f, [nsObjects()[0], deploy, mwc].map((o) => toYaml(o)).join('---\n'));
  const e = await explainJson(['deploy/web', '-n', 'meshed', '-f', f]);
  assert.equal(e.webhook, 'files');
  assert.equal(e.inject, false);
  assert.equal(deciding(e), 'webhook.objectSelector');
  assert.match(e.steps.at(-1)!.detail, /tier NotIn \[canary\] wanted, tier=canary/);
  c.server.seed([deploy]);
  const live = await explainJson(['deploy/web', '-n', 'meshed', '--kubeconfig', c.kubeconfigPath]);
  assert.equal(live.inject, true, live.summary);
});

test('--explain: exit 2 for a bad or missing workload, 3 when the cluster is unreachable', async () => {
  const bad = await runMeshInProcess(['inject', '--explain', 'svc/web', '-n', 'meshed', '--kubeconfig', c.kubeconfigPath]);
  assert.equal(bad.code, 2, bad.stderr);
  const missing = await runMeshInProcess(['inject', '--explain', 'deploy/nope', '-n', 'meshed', '--kubeconfig', c.kubeconfigPath]);
  assert.equal(missing.code, 2, missing.stderr);
  assert.match(missing.stderr, /Deployment meshed\/nope not found/);
  const kc = join(dir, 'down.kubeconfig');
  writeFileSync(kc, `apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\ncurrent-context: x\n`);
  const down = await runMeshInProcess(['inject', '--explain', 'deploy/web', '-n', 'meshed', '--kubeconfig', kc]);
  assert.equal(down.code, 3, down.stderr);
});
