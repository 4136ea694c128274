import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/cluster/types.ts';
import { ANNOTATION_STATUS, BOOTSTRAP_PATH, LABEL_PROXY_VERSION, PROXY_CONFIG_VOLUME, TOKEN_AUDIENCE } from '../../src/constants.ts';
import { envoyBootstrap, validateBootstrapFlags } from '../../src/manifests/bootstrap.ts';
import { injectObject, readStatus, resolveNativeSidecar, uninjectObject, type Container } from '../../src/manifests/inject.ts';
import { validateInjectOptions, type InjectRunOptions } from '../../src/commands/inject-run.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import type { MeshError } from '../../src/errors.ts';

const values = resolveValues();

function deployment(template: { metadata?: Record<string, unknown>; spec?: Record<string, unknown> } = {}): KubeObject {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name: 'web', namespace: 'shop' },
    spec: {
      selector: { matchLabels: { app: 'web' } },
      template: {
        metadata: { labels: { app: 'web' }, ...template.metadata },
        spec: { containers: [{ name: 'web', image: 'nginx', ports: [{ name: 'http', containerPort: 8080 }] }], ...template.spec },
      },
    },
  };
}

const podSpec = (o: KubeObject) => (o.spec as any).template.spec as { containers: Container[]; initContainers?: Container[]; volumes?: any[] };
const podMeta = (o: KubeObject) => (o.spec as any).template.metadata as { labels: Record<string, string>; annotations: Record<string, string> };
const find = (xs: Container[] | undefined, name: string) => xs?.find((c) => c.name === name);

test('classic sidecar: proxy first with a postStart wait (hold), init container, token and trust volumes', () => {
  const { object, report } = injectObject(deployment(), values, { nativeSidecar: false });
  assert.equal(report.action, 'injected');
  const spec = podSpec(object);
  assert.deepEqual(spec.containers.map((c) => c.name), ['mesh-proxy', 'web']);
  assert.deepEqual(spec.initContainers!.map((c) => c.name), ['mesh-init']);
  const proxy = spec.containers[0]!;
  assert.ok((proxy.lifecycle as any).postStart.exec.command.join(' ').includes('/dev/tcp/127.0.0.1/15021'));
  assert.equal(proxy.restartPolicy, undefined);
  const token = spec.volumes!.find((v) => v.name === 'mesh-token');
  assert.deepEqual(token.projected.sources[0].serviceAccountToken.audience, TOKEN_AUDIENCE);
  assert.ok(token.projected.sources[0].serviceAccountToken.expirationSeconds <= 3600);
  assert.equal(podMeta(object).labels[LABEL_PROXY_VERSION], '0.1.0');
  assert.equal(podMeta(object).annotations['kubectl.kubernetes.io/default-container'], 'web');
});

test('hold off: proxy last, no postStart', () => {
  const v = resolveValues({ sets: ['proxy.holdApplicationUntilProxyStarts=false'] });
  const spec = podSpec(injectObject(deployment(), v, { nativeSidecar: false }).object);
  assert.deepEqual(spec.containers.map((c) => c.name), ['web', 'mesh-proxy']);
  assert.equal((spec.containers[1]!.lifecycle as { postStart?: unknown }).postStart, undefined);
});

test('native sidecar: proxy is an init container with restartPolicy Always after mesh-init, with a startupProbe', () => {
  const { object } = injectObject(deployment({ spec: { initContainers: [{ name: 'setup', image: 'busybox' }] } }), values, { nativeSidecar: true });
  const spec = podSpec(object);
  assert.deepEqual(spec.initContainers!.map((c) => c.name), ['mesh-init', 'mesh-proxy', 'setup']);
  assert.deepEqual(spec.containers.map((c) => c.name), ['web']);
  const proxy = spec.initContainers![1]!;
  assert.equal(proxy.restartPolicy, 'Always');
  assert.deepEqual((proxy.startupProbe as any).httpGet, { path: '/healthz/ready', port: 15021 });
});

test('least privilege: proxy non-root read-only with ALL dropped; init has only NET_ADMIN and NET_RAW as root', () => {
  const spec = podSpec(injectObject(deployment(), resolveValues({ sets: ['proxy.uid=2102'] }), { nativeSidecar: false }).object);
  assert.deepEqual(find(spec.containers, 'mesh-proxy')!.securityContext, {
    allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] }, privileged: false, readOnlyRootFilesystem: true, runAsGroup: 2102, runAsNonRoot: true, runAsUser: 2102,
  });
  const init = find(spec.initContainers, 'mesh-init')!;
  assert.deepEqual((init.securityContext as any).capabilities, { add: ['NET_ADMIN', 'NET_RAW'], drop: ['ALL'] });
  assert.equal((init.securityContext as any).runAsNonRoot, false);
  assert.equal((init.securityContext as any).runAsUser, 0);
  const args = init.args as string[];
  assert.equal(args[args.indexOf('--proxy-uid') + 1], '2102');
});

const bootstrapOf = (init: Container, env = { POD_NAME: 'web-1', POD_NAMESPACE: 'shop', POD_IP: '10.0.0.7', SERVICE_ACCOUNT: 'web' }) => {
  const args = init.args as string[];
  const flags: Record<string, string> = {};
  for (let i = 0; i < args.length; i++) if (args[i]!.startsWith('--')) flags[args[i]!.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase())] = args[i + 1]!;
  return envoyBootstrap(validateBootstrapFlags(flags, env)!.options) as any;
};

test('the bootstrap points at the TLS xDS port of the values namespace (token over TLS only), admin on localhost only', () => {
  const v = resolveValues({ sets: ['namespace=mesh', 'controller.xdsPort=16010', 'controller.xdsTlsPort=16012', 'proxy.adminPort=15555'] });
  const spec = podSpec(injectObject(deployment(), v, { nativeSidecar: false }).object);
  const b = bootstrapOf(find(spec.initContainers, 'mesh-init')!);
  const g = b.dynamic_resources.ads_config.grpc_services[0].google_grpc;
  assert.equal(g.target_uri, 'mesh-controller.mesh.svc:16012');
  assert.ok(g.channel_credentials.ssl_credentials.root_certs.filename, 'TLS rooted at the trust bundle');
  assert.equal(g.call_credentials[0].from_plugin.typed_config.header_key, 'authorization');
  assert.deepEqual(b.admin, { address: { socket_address: { address: '127.0.0.1', port_value: 15555 } } });
  assert.equal(b.static_resources.listeners[0].address.socket_address.port_value, 15090);
  assert.deepEqual(b.node, { id: 'web-1.shop', cluster: 'web.shop', metadata: { MESH_VERSION: '0.1.0', POD_NAME: 'web-1', NAMESPACE: 'shop', POD_IP: '10.0.0.7', SERVICE_ACCOUNT: 'web', TRUST_DOMAIN: 'cluster.local' } });
});

for (const native of [false, true]) {
  test(`${native ? 'native' : 'classic'} sidecar: the proxy reads the bootstrap file mesh-init writes, from the volume both mount`, () => {
    const spec = podSpec(injectObject(deployment(), values, { nativeSidecar: native }).object);
    const init = find(spec.initContainers, 'mesh-init')!;
    const proxy = find(native ? spec.initContainers : spec.containers, 'mesh-proxy')!;
    assert.equal(spec.initContainers![0]!.name, 'mesh-init', 'mesh-init runs before the proxy');
    const initArgs = init.args as string[];
    const out = initArgs[initArgs.indexOf('--bootstrap-out') + 1]!;
    assert.equal(out, BOOTSTRAP_PATH);
    assert.deepEqual((proxy.args as string[]).slice(0, 2), ['-c', BOOTSTRAP_PATH]);
    assert.ok(!(proxy.args as string[]).includes('--config-yaml'));
    const mountOf = (c: Container) => (c.volumeMounts as { name: string; mountPath: string; readOnly?: boolean }[]).find((m) => m.name === PROXY_CONFIG_VOLUME)!;
    assert.ok(out.startsWith(`${mountOf(init).mountPath}/`) && mountOf(init).readOnly !== true, 'mesh-init can write the file');
    assert.equal(mountOf(proxy).mountPath, mountOf(init).mountPath);
    assert.equal(mountOf(proxy).readOnly, true);
    assert.ok(spec.volumes!.find((v) => v.name === PROXY_CONFIG_VOLUME).emptyDir);
    assert.deepEqual((init.env as any[]).map((e) => [e.name, e.valueFrom.fieldRef.fieldPath]), [['POD_NAME', 'metadata.name'], ['POD_NAMESPACE', 'metadata.namespace'], ['POD_IP', 'status.podIP'], ['SERVICE_ACCOUNT', 'spec.serviceAccountName']]);
  });
}

test('annotations: ports and CIDRs reach the init container, resources override values', () => {
  const { object } = injectObject(
    deployment({
      metadata: {
        annotations: {
          'mesh.dev/exclude-inbound-ports': '9100,15021',
          'mesh.dev/exclude-outbound-ports': '5432, 3306',
          'mesh.dev/exclude-outbound-ip-ranges': '169.254.169.254/32,fd00::/8',
          'mesh.dev/include-outbound-ip-ranges': '10.0.0.0/8',
          'mesh.dev/proxy-cpu': '300m',
          'mesh.dev/proxy-memory-limit': '1Gi',
        },
      },
    }),
    values,
    { nativeSidecar: false },
  );
  const spec = podSpec(object);
  const args = find(spec.initContainers, 'mesh-init')!.args as string[];
  const arg = (f: string) => args[args.indexOf(f) + 1];
  assert.equal(arg('--exclude-inbound-ports'), '9100,15021,15090');
  assert.equal(arg('--exclude-outbound-ports'), '3306,5432');
  assert.equal(arg('--exclude-outbound-ip-ranges'), '169.254.169.254/32,fd00::/8');
  assert.equal(arg('--include-outbound-ip-ranges'), '10.0.0.0/8');
  assert.deepEqual(find(spec.containers, 'mesh-proxy')!.resources, { requests: { cpu: '300m', memory: '64Mi' }, limits: { cpu: '1', memory: '1Gi' } });
});

const badAnnotations: [string, string, RegExp][] = [
  ['mesh.dev/inject', 'maybe', /annotation mesh.dev\/inject: "maybe" is not enabled or disabled/],
  ['mesh.dev/exclude-outbound-ports', '80,http', /exclude-outbound-ports: "80,http" is not a comma-separated list of ports/],
  ['mesh.dev/exclude-inbound-ports', '70000', /is not a comma-separated list of ports/],
  ['mesh.dev/exclude-outbound-ip-ranges', '10.0.0.0/33', /is not a comma-separated list of CIDRs/],
  ['mesh.dev/include-outbound-ip-ranges', 'everything', /is not a comma-separated list of CIDRs/],
  ['mesh.dev/proxy-memory', 'lots', /proxy-memory: "lots" is not a Kubernetes quantity/],
  ['mesh.dev/hold-application-until-proxy-starts', 'yes', /is not true or false/],
  [ANNOTATION_STATUS, '{not json', /mesh.dev\/status: .* is not the JSON mesh inject writes/],
];
for (const [key, value, message] of badAnnotations) {
  test(`a bad annotation value is an input error naming it and the object: ${key}=${value}`, () => {
    assert.throws(
      () => injectObject(deployment({ metadata: { annotations: { [key]: value } } }), values, { nativeSidecar: false }),
      (e: MeshError) => {
        assert.equal(e.exitCode, 2);
        assert.match(e.message, /^deployment "web": /);
        assert.match(e.message, message);
        return true;
      },
    );
  });
}

test('probes: HTTP and TCP probes go through the readiness port; named ports resolve; exec probes stay; originals recorded', () => {
  const c = {
    name: 'web',
    image: 'nginx',
    ports: [{ name: 'http', containerPort: 8080 }],
    readinessProbe: { httpGet: { path: '/ready', port: 'http' }, periodSeconds: 3 },
    livenessProbe: { tcpSocket: { port: 8080 } },
    startupProbe: { httpGet: { path: '/start', port: 'nope' } },
  };
  const input = deployment({ spec: { containers: [c] } });
  const { object, report } = injectObject(input, values, { nativeSidecar: true });
  const web = find(podSpec(object).containers, 'web')!;
  assert.deepEqual(web.readinessProbe, { httpGet: { path: '/app-health/web/readyz', port: 15021, scheme: 'HTTP' }, periodSeconds: 3 });
  assert.deepEqual(web.livenessProbe, { httpGet: { path: '/app-health/web/livez', port: 15021, scheme: 'HTTP' } }, 'a TCP probe through the proxy too');
  assert.deepEqual(web.startupProbe, c.startupProbe, 'a probe on an unknown named port is left alone');
  assert.ok(report.notes.some((n) => n.includes('startupProbe of container "web" not rewritten')));
  assert.ok(report.changes.includes('rewrote 1 HTTP probe through port 15021') && report.changes.includes('rewrote 1 TCP probe through port 15021'), report.changes.join('; '));
  const status = readStatus(podMeta(object).annotations)!;
  assert.deepEqual(status.probes, { web: { readinessProbe: c.readinessProbe, livenessProbe: c.livenessProbe } });
  const boot = bootstrapOf(find(podSpec(object).initContainers, 'mesh-init')!);
  const hcm = boot.static_resources.listeners[1].filter_chains[0].filters[0].typed_config;
  assert.deepEqual(hcm.route_config.virtual_hosts[0].routes[1], { match: { path: '/app-health/web/readyz' }, route: { cluster: 'app-health-8080', prefix_rewrite: '/ready', timeout: '10s' } });
  // The TCP probe: answered by the proxy, 200 while its TCP health check of 127.0.0.1:8080 passes.
  assert.deepEqual(hcm.http_filters[0].typed_config.headers, [{ name: ':path', string_match: { exact: '/app-health/web/livez' } }]);
  assert.equal(hcm.http_filters[0].typed_config.pass_through_mode, false);
  assert.deepEqual(hcm.http_filters[0].typed_config.cluster_min_healthy_percentages, { 'app-tcp-8080': { value: 100 } });
  assert.equal(hcm.http_filters.at(-1).name, 'envoy.filters.http.router');
  const tcpCluster = boot.static_resources.clusters.find((x: { name: string }) => x.name === 'app-tcp-8080');
  assert.deepEqual(tcpCluster.health_checks[0].tcp_health_check, {});
  assert.equal(tcpCluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.port_value, 8080);
  assert.deepEqual(uninjectObject(object).object, input);
});

test('probes: exec probes and TCP probes on another host stay as they are (noted); the annotation turns rewriting off', () => {
  const c = { name: 'db', image: 'postgres', readinessProbe: { exec: { command: ['pg_isready'] } }, livenessProbe: { tcpSocket: { port: 5432, host: 'db.example' } } };
  const { object, report } = injectObject(deployment({ spec: { containers: [c] } }), values, { nativeSidecar: true });
  const db = find(podSpec(object).containers, 'db')!;
  assert.deepEqual(db.readinessProbe, c.readinessProbe);
  assert.deepEqual(db.livenessProbe, c.livenessProbe);
  assert.ok(report.notes.some((n) => n.includes('livenessProbe of container "db" not rewritten: it targets another host')));
  const off = injectObject(deployment({ metadata: { annotations: { 'mesh.dev/rewrite-app-probes': 'false' } }, spec: { containers: [{ name: 'db', image: 'x', livenessProbe: { tcpSocket: { port: 5432 } } }] } }), values, { nativeSidecar: true });
  assert.deepEqual(find(podSpec(off.object).containers, 'db')!.livenessProbe, { tcpSocket: { port: 5432 } });
});

test('skip reasons are data: hostNetwork, opted out, kinds without pods, name conflicts, another mesh', () => {
  const cases: [KubeObject, string][] = [
    [deployment({ spec: { hostNetwork: true } }), 'hostNetwork'],
    [deployment({ metadata: { annotations: { 'mesh.dev/inject': 'disabled' } } }), 'optedOut'],
    [{ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }, 'unsupportedKind'],
    [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd' }, spec: {} }, 'noPodTemplate'],
    [deployment({ spec: { containers: [{ name: 'mesh-proxy', image: 'x' }] } }), 'nameConflict'],
    [deployment({ spec: { containers: [{ name: 'web', image: 'x' }, { name: 'istio-proxy', image: 'x' }] } }), 'otherMesh'],
    [deployment({ spec: { initContainers: [{ name: 'linkerd-init', image: 'x' }] } }), 'otherMesh'],
  ];
  for (const [obj, reason] of cases) {
    const r = injectObject(obj, values, { nativeSidecar: false });
    assert.equal(r.report.action, 'skipped');
    assert.equal(r.report.reason, reason);
    assert.equal(r.object, obj, 'a skipped object is returned as is');
  }
});

test('uninject of an object never injected is skipped: not injected', () => {
  const r = uninjectObject(deployment());
  assert.equal(r.report.reason, 'notInjected');
});

test('resolveNativeSidecar: on, off, auto by Kubernetes version, auto unknown is off and says why', () => {
  const table: [Parameters<typeof resolveNativeSidecar>, boolean, RegExp][] = [
    [['on'], true, /on \(--native-sidecar on\)/],
    [['off', '1.31'], false, /off/],
    [['auto', '1.29'], true, /1\.29 >= 1\.29/],
    [['auto', 'v1.30.2'], true, /1\.30/],
    [['auto', '1.28'], false, /1\.28 < 1\.29/],
    [['auto', '2.0'], true, /2\.0/],
    [['auto'], false, /unknown: pass --kube-version or --from-cluster/],
  ];
  for (const [args, enabled, reason] of table) {
    const r = resolveNativeSidecar(...args);
    assert.equal(r.enabled, enabled, args.join(' '));
    assert.match(r.reason, reason);
  }
  assert.throws(() => resolveNativeSidecar('auto', 'latest'), /"latest" is not a version/);
});

test('a pod injected by a newer mesh (by semver: numeric parts, pre-releases first) is left alone', () => {
  // [version that injected the pod, version injecting now, skipped as newer]
  const table: [string, string, boolean][] = [['0.10.0', '0.9.1', true], ['0.9.1', '0.10.0', false], ['0.1.0', '0.1.0', false], ['1.0.0-rc.1', '1.0.0', false], ['1.0.0', '1.0.0-rc.1', true], ['v1.2', '1.2.0', false], ['dev', '1.0.0', false]];
  for (const [prior, now, skipped] of table) {
    const old = injectObject(deployment(), values, { nativeSidecar: false, version: prior }).object;
    const r = injectObject(old, values, { nativeSidecar: false, version: now });
    assert.equal(r.report.reason === 'newerVersion', skipped, `${prior} then ${now}: ${r.report.action} ${r.report.reason ?? ''}`);
  }
});

const base: InjectRunOptions = { mode: 'inject', files: ['a.yaml'], recursive: false, valuesFiles: [], sets: [], fromCluster: false, output: 'yaml', report: 'text', inPlace: false };
const optionCases: [string, Partial<InjectRunOptions>, RegExp | undefined][] = [
  ['valid', {}, undefined],
  ['no input', { files: [] }, /no input: pass -f/],
  ['bad --native-sidecar', { nativeSidecar: 'yes' }, /--native-sidecar "yes": must be auto, on or off/],
  ['bad --report', { report: 'xml' }, /--report "xml": must be text or json/],
  ['bad --kube-version', { kubeVersion: 'new' }, /"new" is not a version/],
  ['--in-place with stdin', { inPlace: true, files: ['-'] }, /--in-place cannot write back to stdin/],
  ['--in-place with a URL', { inPlace: true, files: ['https://example.com/a.yaml'] }, /cannot write back to https/],
  ['--in-place with -o json', { inPlace: true, output: 'json' }, /drop -o json/],
  ['stdin twice', { files: ['-', '-'] }, /stdin \(-\) given more than once/],
];
for (const [name, o, err] of optionCases) {
  test(`validateInjectOptions: ${name}`, () => {
    if (!err) return validateInjectOptions({ ...base, ...o });
    assert.throws(() => validateInjectOptions({ ...base, ...o }), (e: MeshError) => e.exitCode === 2 && err.test(e.message));
  });
}

test('every annotation mesh inject reads or writes is documented in docs/annotations.md', async () => {
  const constants = await import('../../src/constants.ts');
  const { readFile } = await import('node:fs/promises');
  const doc = await readFile(new URL('../../docs/annotations.md', import.meta.url), 'utf8');
  const keys = Object.entries(constants).filter(([k]) => k.startsWith('ANNOTATION_') || k === 'LABEL_PROXY_VERSION').map(([, v]) => v as string);
  assert.ok(keys.length >= 12);
  for (const k of keys) assert.ok(doc.includes(`\`${k}\``), `docs/annotations.md lacks ${k}`);
});

test('a namespace labelled mesh.dev/inject=disabled skips its pods unless a pod opts in', () => {
  const off = { 'mesh.dev/inject': 'disabled' };
  const r = injectObject(deployment(), values, { nativeSidecar: false, namespaceLabels: off });
  assert.equal(r.report.reason, 'namespaceOptedOut');
  assert.match(r.report.message!, /its namespace is labelled mesh.dev\/inject=disabled/);
  const optIn = injectObject(deployment({ metadata: { annotations: { 'mesh.dev/inject': 'enabled' } } }), values, { nativeSidecar: false, namespaceLabels: off });
  assert.equal(optIn.report.action, 'injected');
});
