import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { BOOTSTRAP_PATH } from '../../src/constants.ts';
import { bootstrapArgs, bootstrapSettings, envoyBootstrap, validateBootstrapFlags, type BootstrapFlags } from '../../src/manifests/bootstrap.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { iptablesRules, validateProxyInitOptions, type ProxyInitFlags } from '../../src/manifests/iptables.ts';
import type { MeshError } from '../../src/errors.ts';
import { runMesh } from '../support/cli.ts';

/** The downward-API env the injected mesh-init container gets. */
const POD_ENV = { POD_NAME: 'web-5c7d', POD_NAMESPACE: 'shop', POD_IP: '10.4.0.9', SERVICE_ACCOUNT: 'web' };
const base: ProxyInitFlags = { proxyUid: '1337', inboundCapturePort: '15006', outboundCapturePort: '15001' };

test('rules: inbound to the inbound port, outbound to the outbound port, the proxy UID and loopback exempt', () => {
  const rules = iptablesRules(validateProxyInitOptions({ ...base, excludeInboundPorts: '15021,15090' }), 4);
  assert.equal(
    rules,
    [
      '*nat',
      ':MESH_INBOUND - [0:0]',
      ':MESH_IN_REDIRECT - [0:0]',
      ':MESH_OUTPUT - [0:0]',
      ':MESH_REDIRECT - [0:0]',
      '-A MESH_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006',
      '-A MESH_REDIRECT -p tcp -j REDIRECT --to-ports 15001',
      '-A PREROUTING -p tcp -j MESH_INBOUND',
      '-A MESH_INBOUND -p tcp --dport 15021 -j RETURN',
      '-A MESH_INBOUND -p tcp --dport 15090 -j RETURN',
      '-A MESH_INBOUND -p tcp -j MESH_IN_REDIRECT',
      '-A OUTPUT -p tcp -j MESH_OUTPUT',
      '-A MESH_OUTPUT -m owner --uid-owner 1337 -j RETURN',
      '-A MESH_OUTPUT -d 127.0.0.1/32 -j RETURN',
      '-A MESH_OUTPUT -j MESH_REDIRECT',
      'COMMIT',
      '',
    ].join('\n'),
  );
});

test('rules: exclusions return before the redirect; include ranges and CIDRs go to their address family', () => {
  const o = validateProxyInitOptions({ ...base, excludeOutboundPorts: '5432', excludeOutboundIpRanges: '169.254.169.254,fd00::/8', includeOutboundIpRanges: '10.0.0.0/8,2001:db8::/32', inboundPorts: '8080' });
  const v4 = iptablesRules(o, 4);
  const v6 = iptablesRules(o, 6);
  assert.match(v4, /-A MESH_OUTPUT -p tcp --dport 5432 -j RETURN\n-A MESH_OUTPUT -d 169\.254\.169\.254\/32 -j RETURN\n-A MESH_OUTPUT -d 10\.0\.0\.0\/8 -j MESH_REDIRECT\nCOMMIT/);
  assert.match(v4, /-A MESH_INBOUND -p tcp --dport 8080 -j MESH_IN_REDIRECT/);
  assert.doesNotMatch(v4, /fd00|2001:db8/);
  assert.match(v6, /-A MESH_OUTPUT -d ::1\/128 -j RETURN/);
  assert.match(v6, /-d fd00::\/8 -j RETURN\n-A MESH_OUTPUT -d 2001:db8::\/32 -j MESH_REDIRECT/);
});

const bad: [string, ProxyInitFlags, RegExp][] = [
  ['no uid', { ...base, proxyUid: undefined }, /--proxy-uid is required/],
  ['bad uid', { ...base, proxyUid: 'envoy' }, /--proxy-uid "envoy": not a UID/],
  ['bad port', { ...base, inboundCapturePort: '0' }, /--inbound-capture-port "0": not a port/],
  ['bad port list', { ...base, excludeOutboundPorts: '80,x' }, /--exclude-outbound-ports "x": not a port/],
  ['bad CIDR', { ...base, excludeOutboundIpRanges: '10.0.0.0/40' }, /--exclude-outbound-ip-ranges "10.0.0.0\/40": not a CIDR/],
];
for (const [name, flags, msg] of bad) {
  test(`validateProxyInitOptions: ${name}`, () => assert.throws(() => validateProxyInitOptions(flags), (e: MeshError) => e.exitCode === 2 && msg.test(e.message)));
}

test('the mesh-init arguments mesh inject writes are accepted by mesh proxy-init and carry the annotations', async () => {
  const input = `apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations:\n    mesh.dev/exclude-outbound-ports: "5432"\n    mesh.dev/exclude-outbound-ip-ranges: 169.254.169.254/32\nspec:\n  containers: [{name: app, image: nginx}]\n`;
  const injected = await runMesh(['inject', '-f', '-', '--set', 'proxy.uid=2000'], { input });
  const init = parse(injected.stdout).spec.initContainers.find((c: { name: string }) => c.name === 'mesh-init');
  assert.deepEqual(init.command, ['mesh']);
  const r = await runMesh([...init.args, '--dry-run'], { env: POD_ENV });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /--uid-owner 2000 -j RETURN/);
  assert.match(r.stdout, /--dport 5432 -j RETURN/);
  assert.match(r.stdout, /-d 169\.254\.169\.254\/32 -j RETURN/);
  assert.match(r.stdout, /--dport 15021 -j RETURN\n-A MESH_INBOUND -p tcp --dport 15090 -j RETURN/);
});

test('without the iptables tools or privileges, proxy-init fails with exit 1 and a hint', async () => {
  const r = await runMesh(['proxy-init', '--proxy-uid', '1337', '--inbound-capture-port', '15006', '--outbound-capture-port', '15001'], { env: { PATH: '/nonexistent' } });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: iptables-restore failed: iptables-restore: not found/);
  assert.match(r.stderr, /hint: .*NET_ADMIN/);
});

const pod = { name: 'web-5c7d', namespace: 'shop', ip: '10.4.0.9', serviceAccount: 'web' };
const probePod = `apiVersion: v1
kind: Pod
metadata: {name: p}
spec:
  containers:
  - name: app
    image: nginx
    ports: [{containerPort: 8080}]
    readinessProbe: {httpGet: {path: /r, port: 8080, httpHeaders: [{name: X-A, value: "1"}]}}
    livenessProbe: {httpGet: {path: /l, port: 8443, scheme: HTTPS}}
    startupProbe: {tcpSocket: {port: 8080}}
`;

test('mesh proxy-init --dry-run with the mesh-init arguments and env prints the rules and exactly envoyBootstrap() for the same inputs', async () => {
  const injected = await runMesh(['inject', '-f', '-', '--set', 'namespace=mesh', '--set', 'trustDomain=example.org'], { input: probePod });
  assert.equal(injected.code, 0, injected.stderr);
  const spec = parse(injected.stdout).spec;
  const init = spec.initContainers.find((c: { name: string }) => c.name === 'mesh-init');
  const proxy = spec.containers.find((c: { name: string }) => c.name === 'mesh-proxy');
  const r = await runMesh([...init.args, '--dry-run'], { env: POD_ENV });
  assert.equal(r.code, 0, r.stderr);
  const [rules, rest] = r.stdout.split(`# envoy bootstrap -> ${BOOTSTRAP_PATH}\n`);
  assert.match(rules!, /^# iptables-restore --noflush\n\*nat\n[^]*COMMIT\n# ip6tables-restore --noflush\n\*nat\n[^]*COMMIT\n$/);
  const probes = [
    { path: '/app-health/app/readyz', port: 8080, originalPath: '/r', https: false, headers: [{ name: 'X-A', value: '1' }] },
    { path: '/app-health/app/livez', port: 8443, originalPath: '/l', https: true, headers: [] },
    { path: '/app-health/app/startupz', port: 8080, originalPath: '', https: false, headers: [], tcp: true },
  ];
  const expected = envoyBootstrap({ ...bootstrapSettings(resolveValues({ sets: ['namespace=mesh', 'trustDomain=example.org'] }), '0.1.0', probes), pod });
  assert.deepEqual(JSON.parse(rest!), expected);
  // The proxy reads the very file mesh-init writes.
  assert.deepEqual(proxy.args.slice(0, 2), ['-c', init.args[init.args.indexOf('--bootstrap-out') + 1]]);
});

test('mesh proxy-init --bootstrap-out writes the bootstrap JSON atomically before installing the redirect', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-proxy-init-'));
  const out = join(dir, 'envoy-bootstrap.json');
  const settings = bootstrapSettings(resolveValues(), '0.1.0', []);
  const r = await runMesh(['proxy-init', '--proxy-uid', '1337', '--inbound-capture-port', '15006', '--outbound-capture-port', '15001', ...bootstrapArgs(settings, out)], { env: { ...POD_ENV, PATH: '/nonexistent' } });
  assert.equal(r.code, 1, 'iptables-restore is missing here');
  assert.match(r.stderr, /envoy bootstrap written to .*envoy-bootstrap\.json/);
  assert.deepEqual(JSON.parse(readFileSync(out, 'utf8')), envoyBootstrap({ ...settings, pod }));
  assert.deepEqual(readdirSync(dir), ['envoy-bootstrap.json'], 'no temporary file left behind');
});

test('mesh proxy-init --bootstrap-out into a directory that does not exist fails with exit 1 naming the path', async () => {
  const out = join(tmpdir(), 'mesh-no-such-dir', 'x', 'envoy-bootstrap.json');
  const r = await runMesh(['proxy-init', '--proxy-uid', '1337', '--inbound-capture-port', '15006', '--outbound-capture-port', '15001', ...bootstrapArgs(bootstrapSettings(resolveValues(), '0.1.0', []), out)], { env: POD_ENV });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /error: --bootstrap-out .*mesh-no-such-dir\/x\/envoy-bootstrap\.json: /);
});

const bflags: BootstrapFlags = Object.fromEntries(
  bootstrapArgs(bootstrapSettings(resolveValues(), '0.1.0', []), '/b.json')
    .map((a, i, xs) => (a.startsWith('--') ? [a.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase()), xs[i + 1]] : undefined))
    .filter((x): x is [string, string] => x !== undefined),
);
const badBootstrap: [string, BootstrapFlags, Record<string, string>, RegExp][] = [
  ['a bootstrap flag without --bootstrap-out', { trustDomain: 'x' }, POD_ENV, /--trust-domain needs --bootstrap-out PATH/],
  ['no --xds-address', { ...bflags, xdsAddress: undefined }, POD_ENV, /--xds-address is required with --bootstrap-out/],
  ['bad --xds-address', { ...bflags, xdsAddress: 'mesh-controller' }, POD_ENV, /--xds-address "mesh-controller": not HOST:PORT/],
  ['bad --admin-port', { ...bflags, adminPort: '70000' }, POD_ENV, /--admin-port "70000": not a port/],
  ['bad --app-probes', { ...bflags, appProbes: '[{"path":"x"}]' }, POD_ENV, /--app-probes: not a JSON array/],
  ['no POD_IP', bflags, { ...POD_ENV, POD_IP: '' }, /environment variable POD_IP is not set \(the pod's status\.podIP\)/],
  ['bad --xds-mode', { ...bflags, xdsMode: 'incremental' }, POD_ENV, /--xds-mode "incremental": not sotw or delta/],
];
for (const [name, flags, env, msg] of badBootstrap) {
  test(`validateBootstrapFlags: ${name}`, () => assert.throws(() => validateBootstrapFlags(flags, env), (e: MeshError) => e.exitCode === 2 && msg.test(e.message)));
}

test('validateBootstrapFlags: nothing to write without --bootstrap-out; the flags mesh inject writes parse back', () => {
  assert.equal(validateBootstrapFlags({}, {}), undefined);
  const v = validateBootstrapFlags(bflags, POD_ENV)!;
  assert.equal(v.out, '/b.json');
  assert.deepEqual(v.options, { ...bootstrapSettings(resolveValues(), '0.1.0', []), pod });
});

test('proxy.xdsMode: sotw (default) writes no flag and api_type GRPC; delta passes --xds-mode delta to proxy-init and DELTA_GRPC', () => {
  const apiType = (values: string[]): { args: string[]; apiType: unknown } => {
    const args = bootstrapArgs(bootstrapSettings(resolveValues({ sets: values }), '0.1.0', []), '/b.json');
    const flags = Object.fromEntries(args.map((a, i, xs) => (a.startsWith('--') ? [a.slice(2).replace(/-(\w)/g, (_, c: string) => c.toUpperCase()), xs[i + 1]] : undefined)).filter((x): x is [string, string] => x !== undefined)) as BootstrapFlags;
    const boot = envoyBootstrap(validateBootstrapFlags(flags, POD_ENV)!.options) as { dynamic_resources: { ads_config: { api_type: unknown } } };
    return { args, apiType: boot.dynamic_resources.ads_config.api_type };
  };
  const sotw = apiType([]);
  assert.ok(!sotw.args.includes('--xds-mode'), 'pods injected before the switch keep identical arguments');
  assert.equal(sotw.apiType, 'GRPC');
  const delta = apiType(['proxy.xdsMode=delta']);
  assert.deepEqual(delta.args.slice(delta.args.indexOf('--xds-mode'), delta.args.indexOf('--xds-mode') + 2), ['--xds-mode', 'delta']);
  assert.equal(delta.apiType, 'DELTA_GRPC');
  assert.throws(() => resolveValues({ sets: ['proxy.xdsMode=incremental'] }), /xdsMode/);
});
