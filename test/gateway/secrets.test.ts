// SDS for gateway proxies: the listeners' TLS Secrets go only to a stream authenticated as the
// Gateway's own ServiceAccount, next to its workload certificate; versions never derive from keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KubeObject } from '../../src/cluster/types.ts';
import { GatewaySecrets } from '../../src/controller/gateway-secrets.ts';
import { buildModel } from '../../src/model/index.ts';
import { decodeResource } from '../../src/xds/encode.ts';
import { TYPE } from '../../src/xds/protos.ts';
import { encodeSecrets, type SecretProvider, type StreamIdentity } from '../../src/xds/secrets.ts';
import type { ProxyInfo } from '../../src/xds/translate.ts';

const KEY = '-----BEGIN PRIVATE KEY-----\nsecret-key-bytes\n-----END PRIVATE KEY-----\n';
const secret = (rv: string, crt: string): KubeObject => ({
  apiVersion: 'v1', kind: 'Secret', metadata: { name: 'edge-cert', namespace: 'ingress', resourceVersion: rv }, type: 'kubernetes.io/tls',
  data: { 'tls.crt': Buffer.from(crt).toString('base64'), 'tls.key': Buffer.from(KEY).toString('base64') },
});
const objects = (s: KubeObject): KubeObject[] => [
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'GatewayClass', metadata: { name: 'mesh' }, spec: { controllerName: 'mesh.dev/gateway-controller' } },
  { apiVersion: 'gateway.networking.k8s.io/v1', kind: 'Gateway', metadata: { name: 'edge', namespace: 'ingress' }, spec: { gatewayClassName: 'mesh', listeners: [{ name: 'https', port: 443, protocol: 'HTTPS', tls: { certificateRefs: [{ name: 'edge-cert' }] } }] } },
  s,
];

/** A provider whose every stream is authenticated as `sa` in `ns` and holds a `default` certificate. */
function fakeInner(ns: string, sa: string): SecretProvider {
  const identity: StreamIdentity = { authenticated: true, transport: 'tls', namespace: ns, serviceAccount: sa };
  const set = encodeSecrets({ default: { name: 'default', tls_certificate: { certificate_chain: { inline_string: 'wl' }, private_key: { inline_string: 'wl-key' } } } }, 'v1');
  return { open: () => ({ current: () => set, identity: () => identity, want: () => undefined, close: () => undefined }) };
}

function open(provider: GatewaySecrets, node: ProxyInfo, pushes: string[]) {
  return provider.open({ streamId: 1, node, transport: 'tls', onChange: () => pushes.push('push') });
}

test("a gateway stream authenticated as the Gateway's ServiceAccount gets its listener certificate; the version does not come from the key", () => {
  let current = secret('1', 'CERT-1');
  const model = () => buildModel(objects(current));
  let m = model();
  const provider = new GatewaySecrets(fakeInner('ingress', 'edge-mesh'), { model: () => m, secret: (ns, name) => (ns === 'ingress' && name === 'edge-cert' ? current : undefined) });
  const pushes: string[] = [];
  const s = open(provider, { id: 'gw', kind: 'gateway', namespace: 'ingress', gateway: 'edge', pod: 'edge-mesh-1' }, pushes);
  const set = s.current()!;
  assert.deepEqual([...set.resources.keys()].sort(), ['default', 'kubernetes://ingress/edge-cert']);
  const wire = decodeResource(TYPE.secret, set.resources.get('kubernetes://ingress/edge-cert')!.any.value) as { tls_certificate: { private_key: { inline_string: string } } };
  assert.equal(wire.tls_certificate.private_key.inline_string, KEY);
  assert.doesNotMatch(JSON.stringify(set.resources.get('kubernetes://ingress/edge-cert')!.msg), /secret-key-bytes/, 'the config_dump form is redacted');
  const v1 = set.version;
  current = secret('2', 'CERT-2');
  m = model();
  provider.refresh();
  assert.notEqual(s.current()!.version, v1);
  assert.ok(pushes.length > 0, 'a renewed Secret is pushed');
});

test('another ServiceAccount in the namespace, or a sidecar, gets no listener certificate', () => {
  const m = buildModel(objects(secret('1', 'CERT')));
  const other = new GatewaySecrets(fakeInner('ingress', 'default'), { model: () => m, secret: () => secret('1', 'CERT') });
  assert.deepEqual([...open(other, { id: 'x', kind: 'gateway', namespace: 'ingress', gateway: 'edge' }, []).current()!.resources.keys()], ['default']);
  const sidecar = new GatewaySecrets(fakeInner('ingress', 'edge-mesh'), { model: () => m, secret: () => secret('1', 'CERT') });
  assert.deepEqual([...open(sidecar, { id: 'y', kind: 'sidecar', namespace: 'ingress', pod: 'p' }, []).current()!.resources.keys()], ['default']);
});
