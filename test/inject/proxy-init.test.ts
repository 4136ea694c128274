import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { iptablesRules, validateProxyInitOptions, type ProxyInitFlags } from '../../src/manifests/iptables.ts';
import type { MeshError } from '../../src/ui/errors.ts';
import { runMesh } from '../support/cli.ts';

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
  const r = await runMesh([...init.args, '--dry-run']);
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
