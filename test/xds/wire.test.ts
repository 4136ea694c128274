// The ADS responses written from shared per-resource encodings are byte for byte what protobufjs
// writes for the same message, for both protocols.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel } from '../../src/model/index.ts';
import { proxylessResources } from '../../src/xds/translate.ts';
import { makeSnapshot } from '../../src/xds/snapshot.ts';
import { envoyRoot, TYPE } from '../../src/xds/protos.ts';
import { resourceVersion } from '../../src/xds/delta.ts';
import { encodeDeltaResponse, encodeSotwResponse } from '../../src/xds/wire.ts';
import type { KubeObject } from '../../src/cluster/types.ts';

const objects: KubeObject[] = ['a', 'b'].flatMap((name, i): KubeObject[] => [
  { apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'shop' }, spec: { clusterIP: `10.96.0.${i + 1}`, ports: [{ name: 'grpc', port: 8080 }] } },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name, namespace: 'shop', labels: { 'kubernetes.io/service-name': name } }, addressType: 'IPv4', ports: [{ name: 'grpc', port: 9090 }], endpoints: [{ addresses: [`10.1.0.${i + 1}`] }] },
]);

test('SotW and delta responses are encoded as protobufjs encodes them, also when a resource is sent again', () => {
  const snap = makeSnapshot('1', proxylessResources(buildModel(objects), { id: 'p', kind: 'grpc', namespace: 'shop' }));
  const t = (name: string) => envoyRoot().lookupType(`envoy.service.discovery.v3.${name}`);
  const [sotw, delta] = [t('DiscoveryResponse'), t('DeltaDiscoveryResponse')];
  let checked = 0;
  for (const typeUrl of [TYPE.cluster, TYPE.endpoint, TYPE.listener, TYPE.route]) {
    const set = snap.types[typeUrl];
    assert.ok(set.resources.size > 0, typeUrl);
    for (let round = 0; round < 2; round++) {
      const s = { version_info: set.version, resources: [...set.resources.values()].map((r) => r.any), type_url: typeUrl, nonce: String(round + 7), control_plane: { identifier: 'mesh-controller' } };
      assert.deepEqual(encodeSotwResponse(s), Buffer.from(sotw.encode(sotw.create(s)).finish()), `${typeUrl} SotW`);
      const d = {
        system_version_info: set.version, type_url: typeUrl, nonce: String(round + 9), control_plane: { identifier: 'mesh-controller' },
        resources: [...set.resources.values()].map((r) => ({ name: r.name, version: resourceVersion(typeUrl, r), resource: r.any })),
        removed_resources: round ? ['gone', 'also-gone'] : [],
      };
      assert.deepEqual(encodeDeltaResponse(d), Buffer.from(delta.encode(delta.create(d)).finish()), `${typeUrl} delta`);
      checked++;
    }
  }
  assert.equal(checked, 8);
});

test('generated responses: multi-byte strings, lengths past one- and two-byte varints, empty removed names; empty singular fields left out', () => {
  const t = (name: string) => envoyRoot().lookupType(`envoy.service.discovery.v3.${name}`);
  const [sotw, delta] = [t('DiscoveryResponse'), t('DeltaDiscoveryResponse')];
  let seed = 7;
  const rand = (n: number): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) % n);
  const chars = ['a', 'Z', '0', '/', '.', 'é', '€', '😀', '\u0000'];
  const str = (lengths = [1, 5, 39, 40, 130, 20_000]): string => Array.from({ length: lengths[rand(lengths.length)]! }, () => chars[rand(chars.length)]).join('');
  const bytes = (): Uint8Array => Uint8Array.from({ length: [1, 127, 128, 16_383, 16_384, 70_000][rand(6)]! }, () => rand(256));
  for (let i = 0; i < 40; i++) {
    const anys = Array.from({ length: rand(6) }, () => ({ type_url: str(), value: bytes() }));
    const s = { version_info: str(), resources: anys, type_url: str(), nonce: str(), control_plane: { identifier: str() } };
    assert.deepEqual(encodeSotwResponse(s), Buffer.from(sotw.encode(sotw.create(s)).finish()), `SotW case ${i}`);
    const d = {
      system_version_info: str(), type_url: str(), nonce: str(), control_plane: { identifier: str() },
      resources: anys.map((any) => ({ name: str(), version: str(), resource: any })),
      removed_resources: Array.from({ length: rand(4) }, () => str([0, 1, 40])),
    };
    assert.deepEqual(encodeDeltaResponse(d), Buffer.from(delta.encode(delta.create(d)).finish()), `delta case ${i}`);
  }
  // protobufjs writes a singular field set to '' (or an Any's empty value); proto3 reads it as unset, which is what is written here.
  const empty = { version_info: '', resources: [{ type_url: 'x', value: new Uint8Array(0) }], type_url: '', nonce: '', control_plane: { identifier: '' } };
  const ours = encodeSotwResponse(empty);
  assert.ok(ours.length < sotw.encode(sotw.create(empty)).finish().length);
  assert.deepEqual(sotw.toObject(sotw.decode(ours), { defaults: true }), sotw.toObject(sotw.decode(sotw.encode(sotw.create(empty)).finish()), { defaults: true }));
});
