// The addons as rendered: through --addons and values, valid against the Kubernetes schemas,
// least-privilege RBAC, pinned images with resources, Grafana dashboards that are sound Grafana
// JSON, and a Prometheus configuration and dashboard queries that Debian's promtool accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1/Deployment';
import { ClusterRole } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRole';
import { ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1/ClusterRoleBinding';
import { ConfigMap } from 'kubernetes-models/v1/ConfigMap';
import { Service } from 'kubernetes-models/v1/Service';
import { ServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { KubeObject } from '../../src/cluster/types.ts';
import { ADDON_NAMES, ADDON_UI, addonSets, JAEGER_ZIPKIN_PORT, jaegerOtlpEndpoint, LABEL_ADDON, prometheusConfig, SCRAPE_JOBS } from '../../src/manifests/addons.ts';
import { dashboardFiles, GRAFANA_DATASOURCE_UID, meshDashboards } from '../../src/manifests/dashboards.ts';
import { meshImages } from '../../src/manifests/images.ts';
import { renderManifests, toYamlStream } from '../../src/manifests/render.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { loadTemplates } from '../../src/install/templates.ts';
import { backendQueries } from '../../src/route/metrics.ts';
import type { MeshError } from '../../src/errors.ts';
import { runMeshInProcess as mesh } from '../support/cli.ts';
import { concreteTargets, PROMETHEUS_MISSING, promtool } from './support.ts';

const ALL = ['addons.prometheus.enabled=true', 'addons.grafana.enabled=true', 'addons.jaeger.enabled=true'];
const render = (sets: string[] = ALL, namespace?: string) => renderManifests(resolveValues({ sets: [...sets, ...(namespace ? [`namespace=${namespace}`] : [])] }), loadTemplates(), { version: '0.0.0-test' });
const addonObjects = (objs: KubeObject[]) => objs.filter((o) => o.metadata.labels?.[LABEL_ADDON]);
const ref = (o: KubeObject) => `${o.kind}/${o.metadata.name}`;

test('--addons renders the named addons (the same as values addons.NAME.enabled), and nothing without them', async () => {
  const r = await mesh(['manifest', 'generate', '--addons', 'prometheus,grafana', '--addons', 'jaeger', '-o', 'name']);
  assert.equal(r.code, 0, r.stderr);
  for (const n of ['deployment.apps/prometheus', 'service/grafana', 'deployment.apps/jaeger', 'clusterrole.rbac.authorization.k8s.io/mesh-prometheus', 'configmap/grafana-dashboards']) assert.match(r.stdout, new RegExp(`^${n.replace(/\./g, '\\.')}$`, 'm'));
  const dir = await mkdtemp(join(tmpdir(), 'mesh-addons-'));
  try {
    await writeFile(join(dir, 'values.yaml'), 'addons:\n  grafana:\n    enabled: true\n');
    const v = await mesh(['manifest', 'generate', '-f', join(dir, 'values.yaml'), '-o', 'name']);
    assert.equal(v.code, 0, v.stderr);
    assert.match(v.stdout, /^deployment\.apps\/grafana$/m);
    assert.doesNotMatch(v.stdout, /prometheus|jaeger/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
  assert.deepEqual(addonObjects(render([])), []);
  // --set comes after --addons, so it can still turn one off.
  assert.deepEqual(addonObjects(renderManifests(resolveValues({ sets: [...addonSets(['prometheus']), 'addons.prometheus.enabled=false'] }), loadTemplates())), []);
});

test('an unknown addon name is exit 2 naming it, with the known names', async () => {
  const r = await mesh(['manifest', 'generate', '--addons', 'prometheus,grafna']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--addons: unknown addon "grafna"/);
  assert.match(r.stderr, /did you mean "grafana"\? addons: prometheus, grafana, jaeger/);
  assert.equal(r.stdout, '');
  const i = await mesh(['install', '--addons', 'kiali', '--dry-run']);
  assert.equal(i.code, 2);
  assert.match(i.stderr, /unknown addon "kiali"/);
  assert.throws(() => addonSets(['prometheus,']), (e: MeshError) => e.exitCode === 2 && /empty addon name/.test(e.message));
  assert.throws(() => resolveValues({ sets: ['addons.kiali.enabled=true'] }), (e: MeshError) => e.exitCode === 2 && /unknown value "addons\.kiali"/.test(e.message));
});

test('metrics.prometheusUrl takes an http(s) URL or nothing; anything else is exit 2 naming the value', () => {
  assert.equal(resolveValues().metrics.prometheusUrl, '');
  assert.equal(resolveValues({ sets: ['metrics.prometheusUrl=https://prom.example.com'] }).metrics.prometheusUrl, 'https://prom.example.com');
  for (const bad of ['prom:9090', 'ftp://x', 'not a url']) {
    assert.throws(() => resolveValues({ sets: [`metrics.prometheusUrl=${bad}`] }), (e: MeshError) => e.exitCode === 2 && e.message.includes('"metrics.prometheusUrl"') && e.message.includes(bad), bad);
  }
});

const MODELS: Record<string, new (o: never) => { validate(): void }> = { Deployment, Service, ServiceAccount, ConfigMap, ClusterRole, ClusterRoleBinding };

test('every addon object validates against its Kubernetes schema, sits in the mesh namespace and carries the mesh labels', () => {
  const objs = addonObjects(render(ALL, 'observability'));
  assert.deepEqual(objs.map(ref), [
    'ServiceAccount/prometheus', 'ClusterRole/mesh-prometheus', 'ClusterRoleBinding/mesh-prometheus', 'ConfigMap/prometheus', 'Deployment/prometheus', 'Service/prometheus',
    'ServiceAccount/grafana', 'ConfigMap/grafana', 'ConfigMap/grafana-dashboards', 'Deployment/grafana', 'Service/grafana',
    'ServiceAccount/jaeger', 'Deployment/jaeger', 'Service/jaeger', 'Service/jaeger-collector',
  ]);
  for (const o of objs) {
    const Model = MODELS[o.kind];
    assert.ok(Model, `no schema model for ${o.kind}`);
    assert.doesNotThrow(() => new Model(o as never).validate(), ref(o));
    if (!o.kind.startsWith('Cluster')) assert.equal(o.metadata.namespace, 'observability', ref(o));
    assert.equal(o.metadata.labels?.['app.kubernetes.io/part-of'], 'mesh', ref(o));
  }
  const crb = objs.find((o) => o.kind === 'ClusterRoleBinding')!;
  assert.deepEqual(crb.subjects, [{ kind: 'ServiceAccount', name: 'prometheus', namespace: 'observability' }]);
  assert.equal(toYamlStream(render()), toYamlStream(render()), 'same values, same bytes');
});

test('RBAC is minimal: Prometheus may only get/list/watch pods; Grafana and Jaeger get no Kubernetes token at all', () => {
  const objs = addonObjects(render());
  const roles = objs.filter((o) => /Role$/.test(o.kind));
  assert.deepEqual(roles.map(ref), ['ClusterRole/mesh-prometheus']);
  assert.deepEqual(roles[0]!.rules, [{ apiGroups: [''], resources: ['pods'], verbs: ['get', 'list', 'watch'] }]);
  // What the configuration discovers is what the role allows: pods, nothing else.
  const roleKinds = new Set(JSON.stringify(prometheusConfig(resolveValues())).match(/"role":"\w+"/g));
  assert.deepEqual([...roleKinds], ['"role":"pod"']);
  for (const name of ['grafana', 'jaeger']) {
    const sa = objs.find((o) => o.kind === 'ServiceAccount' && o.metadata.name === name)!;
    const d = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!;
    assert.equal(sa.automountServiceAccountToken, false, name);
    assert.equal((d.spec as { template: { spec: { automountServiceAccountToken?: boolean } } }).template.spec.automountServiceAccountToken, false, name);
  }
});

interface Pod { metadata: { labels: Record<string, string>; annotations?: Record<string, string> }; spec: { securityContext: { runAsNonRoot?: boolean }; containers: { image: string; resources: { requests: Record<string, string>; limits: Record<string, string> }; securityContext: { allowPrivilegeEscalation: boolean; readOnlyRootFilesystem: boolean } }[] } }

test('addon images are pinned, listed in the one image list, and every container has requests, limits and a locked-down security context', () => {
  const values = resolveValues({ sets: [...ALL, 'addons.jaeger.resources.limits.memory=2Gi'] });
  const objs = addonObjects(renderManifests(values, loadTemplates()));
  const images = meshImages(values);
  for (const d of objs.filter((o) => o.kind === 'Deployment')) {
    const pod = (d.spec as { template: Pod }).template;
    const name = d.metadata.name as (typeof ADDON_NAMES)[number];
    const c = pod.spec.containers[0]!;
    assert.equal(c.image, values.addons[name].image);
    assert.match(c.image, /^[\w./-]+:v?\d+\.\d+\.\d+(@sha256:[0-9a-f]{64})?$/, `${name}: a version tag, never latest`);
    assert.ok(images.some((i) => i.image === c.image && i.usedBy === `addons.${name}`), `${name} is in meshImages`);
    assert.deepEqual(c.resources, values.addons[name].resources);
    assert.ok(c.resources.requests.cpu && c.resources.requests.memory && c.resources.limits.cpu && c.resources.limits.memory, name);
    assert.equal(c.securityContext.allowPrivilegeEscalation, false);
    assert.equal(c.securityContext.readOnlyRootFilesystem, true);
    assert.equal(pod.spec.securityContext.runAsNonRoot, true);
    assert.equal(pod.metadata.annotations?.['mesh.dev/inject'], 'disabled', `${name} is never injected`);
  }
  const jaeger = objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'jaeger')!;
  assert.equal((jaeger.spec as { template: Pod }).template.spec.containers[0]!.resources.limits.memory, '2Gi');
  assert.deepEqual(meshImages(resolveValues()).map((i) => i.usedBy), ['controller', 'proxy', 'proxyInit'], 'no addon, no addon image');
});

test('each addon UI named by mesh dashboard is a port of its Service; Jaeger receives OTLP at jaeger-collector.NS.svc:4317 (and Zipkin at :9411)', () => {
  const objs = addonObjects(render());
  for (const [name, ui] of Object.entries(ADDON_UI)) {
    const svc = objs.find((o) => o.kind === 'Service' && o.metadata.name === ui.service);
    assert.ok(svc, name);
    assert.ok((svc.spec as { ports: { port: number }[] }).ports.some((p) => p.port === ui.port), `${name} port ${ui.port}`);
  }
  const collector = objs.find((o) => o.kind === 'Service' && o.metadata.name === 'jaeger-collector')!;
  assert.deepEqual((collector.spec as { ports: { port: number; name: string }[] }).ports.map((p) => `${p.name}:${p.port}`), ['grpc-otlp:4317', 'http-otlp:4318', 'http-zipkin:9411']);
  const pod = (objs.find((o) => o.kind === 'Deployment' && o.metadata.name === 'jaeger')!.spec as { template: { spec: { containers: { ports: { name: string; containerPort: number }[] }[] } } }).template.spec.containers[0]!;
  for (const p of (collector.spec as { ports: { port: number; targetPort: string }[] }).ports) assert.equal(pod.ports.find((c) => c.name === p.targetPort)?.containerPort, p.port, `${p.targetPort} is a container port`);
  assert.equal(jaegerOtlpEndpoint('mesh-system'), 'jaeger-collector.mesh-system.svc:4317');
  assert.equal(jaegerOtlpEndpoint('obs', JAEGER_ZIPKIN_PORT), 'jaeger-collector.obs.svc:9411');
});

test('Grafana is provisioned with the addon Prometheus as datasource and exactly the shipped dashboards; a changed config rolls the pod', () => {
  const objs = addonObjects(render());
  const cm = objs.find((o) => o.kind === 'ConfigMap' && o.metadata.name === 'grafana')!;
  const ds = parse((cm.data as Record<string, string>)['datasources.yaml']!) as { datasources: { uid: string; url: string; type: string }[] };
  assert.deepEqual(ds.datasources.map((d) => [d.uid, d.type, d.url]), [[GRAFANA_DATASOURCE_UID, 'prometheus', 'http://prometheus.mesh-system.svc:9090']]);
  assert.deepEqual(objs.find((o) => o.metadata.name === 'grafana-dashboards')!.data, dashboardFiles());
  const hashOf = (objs2: KubeObject[], name: string) => ((objs2.find((o) => o.kind === 'Deployment' && o.metadata.name === name)!.spec as { template: Pod }).template.metadata.annotations ?? {})['mesh.dev/config-hash'];
  const other = addonObjects(render([...ALL, 'proxy.statsPort=15091']));
  assert.notEqual(hashOf(objs, 'prometheus'), hashOf(other, 'prometheus'), 'prometheus.yml changed');
  assert.equal(hashOf(objs, 'grafana'), hashOf(other, 'grafana'));
});

test('the dashboards are sound Grafana JSON: panels with ids, grid positions, targets with refIds and the datasource variable; every variable is defined', () => {
  const files = dashboardFiles();
  const dashboards = meshDashboards();
  assert.deepEqual(Object.keys(files), ['mesh-overview.json', 'mesh-service.json', 'mesh-workload.json', 'mesh-control-plane.json']);
  for (const d of dashboards) {
    const json = JSON.parse(files[`${d.uid}.json`]!) as typeof d;
    assert.deepEqual(json, d, 'the file is the dashboard');
    assert.ok(typeof json.title === 'string' && json.title && Number.isInteger(json.schemaVersion) && json.schemaVersion >= 36, d.uid);
    const vars = json.templating.list.map((v) => v.name as string);
    const dsVar = json.templating.list.find((v) => v.name === 'datasource')!;
    assert.equal(dsVar.type, 'datasource');
    assert.equal((dsVar.current as { value: string }).value, GRAFANA_DATASOURCE_UID);
    assert.ok(json.panels.length >= 4, d.uid);
    const ids = new Set<number>();
    const cells = new Set<string>();
    for (const p of json.panels) {
      assert.ok(!ids.has(p.id), `${d.uid}: panel id ${p.id} unique`);
      ids.add(p.id);
      assert.ok(['timeseries', 'stat'].includes(p.type) && p.title, `${d.uid}/${p.title}`);
      const g = p.gridPos;
      assert.ok(g.x >= 0 && g.w > 0 && g.x + g.w <= 24 && g.h > 0 && g.y >= 0, `${d.uid}/${p.title}: inside the 24-column grid`);
      for (let x = g.x; x < g.x + g.w; x++) for (let y = g.y; y < g.y + g.h; y++) {
        assert.ok(!cells.has(`${x},${y}`), `${d.uid}/${p.title}: overlaps another panel`);
        cells.add(`${x},${y}`);
      }
      assert.deepEqual(p.datasource, { type: 'prometheus', uid: '${datasource}' });
      assert.ok(p.targets.length > 0);
      assert.equal(new Set(p.targets.map((t) => t.refId)).size, p.targets.length, 'refIds unique');
      for (const t of p.targets) {
        assert.deepEqual(t.datasource, p.datasource);
        for (const [, name] of t.expr.matchAll(/\$(\w+)/g)) assert.ok(name === '__rate_interval' || vars.includes(name!), `${d.uid}/${p.title}: $${name} is defined`);
      }
    }
  }
});

test('promtool check config accepts the rendered Prometheus configuration', { skip: PROMETHEUS_MISSING }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-promtool-'));
  try {
    const config = prometheusConfig(resolveValues({ sets: ['addons.prometheus.enabled=true'] })) as { scrape_configs: Record<string, unknown>[] };
    // Debian builds Prometheus without Kubernetes discovery, so its promtool rejects
    // kubernetes_sd_configs as an unknown field: check those blocks here, and let promtool check
    // everything else (jobs, paths, relabelling) with file discovery in their place.
    for (const job of config.scrape_configs) {
      const sd = job.kubernetes_sd_configs as { role: string; namespaces?: { names: string[] }; selectors?: { role: string; label: string }[] }[];
      assert.ok(sd.length === 1 && sd[0]!.role === 'pod', `${job.job_name as string}: pod discovery`);
      for (const s of sd[0]!.selectors ?? []) assert.ok(s.role === 'pod' && /^[\w./-]+=[\w.-]+$/.test(s.label));
      delete job.kubernetes_sd_configs;
      await writeFile(join(dir, `${job.job_name as string}.json`), '[]');
      job.file_sd_configs = [{ files: [join(dir, `${job.job_name as string}.json`)] }];
    }
    await writeFile(join(dir, 'prometheus.yml'), stringify(config, { aliasDuplicateObjects: false }));
    const r = promtool('check', 'config', join(dir, 'prometheus.yml'));
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, /SUCCESS/);
    assert.deepEqual(config.scrape_configs.map((j) => j.job_name), [SCRAPE_JOBS.sidecars, SCRAPE_JOBS.gateways, SCRAPE_JOBS.controlPlane]);
    // The check can fail: a broken relabel regex is refused.
    (config.scrape_configs[0]!.relabel_configs as { regex?: string }[])[0]!.regex = '(';
    await writeFile(join(dir, 'broken.yml'), stringify(config, { aliasDuplicateObjects: false }));
    assert.notEqual(promtool('check', 'config', join(dir, 'broken.yml')).status, 0);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('promtool check rules accepts every dashboard query and every query mesh itself sends, as recording rules', { skip: PROMETHEUS_MISSING }, async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-promtool-'));
  try {
    const vars = { 'mesh-overview': { namespace: '.*' }, 'mesh-service': { namespace: 'shop', service: 'catalog' }, 'mesh-workload': { namespace: 'shop', workload: 'web' } };
    const exprs = [...concreteTargets(vars, '5m').map((t) => t.expr), ...Object.values(backendQueries('shop', 'catalog', 60))];
    const rules = { groups: [{ name: 'mesh', rules: exprs.map((expr, i) => ({ record: `mesh:query:${i}`, expr })) }] };
    await writeFile(join(dir, 'rules.yml'), stringify(rules, { lineWidth: 0 }));
    const r = promtool('check', 'rules', join(dir, 'rules.yml'));
    assert.equal(r.status, 0, r.output);
    assert.match(r.output, new RegExp(`SUCCESS: ${exprs.length} rules found`));
    await writeFile(join(dir, 'broken.yml'), stringify({ groups: [{ name: 'x', rules: [{ record: 'x:y', expr: 'sum(rate(x[5m])' }] }] }));
    assert.notEqual(promtool('check', 'rules', join(dir, 'broken.yml')).status, 0, 'the check can fail');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('mesh manifest generate --dashboards DIR writes the dashboards as JSON files; a DIR that is a file is exit 2', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-dash-'));
  try {
    const out = join(dir, 'nested', 'dashboards');
    const r = await mesh(['manifest', 'generate', '--dashboards', out]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual((await readdir(out)).sort(), Object.keys(dashboardFiles()).sort());
    assert.deepEqual(r.stdout.trim().split('\n'), Object.keys(dashboardFiles()).map((f) => join(out, f)));
    for (const [f, text] of Object.entries(dashboardFiles())) assert.equal(await readFile(join(out, f), 'utf8'), text);
    await writeFile(join(dir, 'file'), 'x');
    const bad = await mesh(['manifest', 'generate', '--dashboards', join(dir, 'file')]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--dashboards .*file: cannot write there: not a directory/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('configuredPrometheusUrl: the installed metrics.prometheusUrl; nothing when unset, not installed or not readable (the commands then behave as before)', async () => {
  const { configuredPrometheusUrl } = await import('../../src/metrics/configured.ts');
  const { fakeCluster } = await import('../support/fake-cluster.ts');
  const withConfig = (values: string | undefined, fail = false) => fakeCluster({
    async get(_a: string, _k: string, name: string, ns?: string) {
      if (fail) throw new Error('forbidden');
      return values === undefined || name !== 'mesh-config' || ns !== 'mesh-system' ? undefined : { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { 'values.yaml': values } };
    },
  });
  assert.equal(await configuredPrometheusUrl(withConfig('metrics:\n  prometheusUrl: https://prom.example.com\n')), 'https://prom.example.com');
  assert.equal(await configuredPrometheusUrl(withConfig('metrics:\n  prometheusUrl: ""\n')), undefined);
  assert.equal(await configuredPrometheusUrl(withConfig('namespace: mesh-system\n')), undefined);
  assert.equal(await configuredPrometheusUrl(withConfig(undefined)), undefined);
  assert.equal(await configuredPrometheusUrl(withConfig('x', true)), undefined);
  assert.equal(await configuredPrometheusUrl(withConfig('metrics:\n  prometheusUrl: https://prom.example.com\n'), 'elsewhere'), undefined);
});
