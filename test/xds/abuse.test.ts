// One unauthenticated ADS stream trying to make the controller log, store or remember without
// bound: repeated NACKs of one nonce, huge error_detail, endless type URLs and resource names.
import { after, before, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { TYPE } from '../../src/xds/protos.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { AdsClient, DeltaAdsClient } from '../support/ads-client.ts';

const svc: KubeObject = { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'shop' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'grpc', port: 8080 }] } };
const CA = 'outbound|8080||a.shop.svc.cluster.local';

let cp: ControlPlane;
let source: MemorySource;
let port: number;
const logs: string[] = [];
const streams: AdsClient<any, any>[] = [];

before(async () => {
  source = new MemorySource([svc]);
  cp = new ControlPlane({ source, debounceMs: 20, log: (l) => logs.push(l), adsLimits: { maxTypes: 8, maxNames: 100 } });
  port = await cp.start({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  for (const s of streams) s.call.cancel();
  await cp.stop();
});

function stream(nodeId: string): AdsClient {
  const s = new AdsClient(cp.ads.serviceDefinition(), port, nodeId, { NAMESPACE: 'shop' });
  streams.push(s);
  return s;
}

test('20,000 NACKs of one nonce with a 2 KB error: recorded once, logged once and cut to 512 characters', async () => {
  const s = stream('flood');
  s.send({ type_url: TYPE.cluster, resource_names: [CA] });
  const r = await s.next();
  logs.length = 0;
  const huge = 'e'.repeat(2_000);
  let nackEvents = 0;
  const count = (): void => void nackEvents++;
  cp.ads.on('nack', count);
  for (let i = 0; i < 20_000; i++) s.send({ type_url: TYPE.cluster, resource_names: [CA], version_info: '', response_nonce: r.nonce, error_detail: { code: 3, message: huge } });
  // Requests are handled in order: once this one is answered, the flood has been read.
  s.send({ type_url: TYPE.listener, resource_names: [] });
  assert.equal((await s.next()).type_url, TYPE.listener);
  cp.ads.off('nack', count);
  assert.equal(nackEvents, 1, 'a repeat of a settled nonce is recorded again');
  const lines = logs.filter((l) => l.includes('NACK'));
  assert.equal(lines.length, 1, `${lines.length} NACK log lines`);
  assert.ok((lines[0] as string).length < 700, `a ${lines[0]?.length}-character log line`);
  assert.match(lines[0] as string, /\.\.\. \(1488 more characters\)$/);
  const st = cp.syncz().proxies.find((p) => p.id === 'flood')?.streams[0]?.types[TYPE.cluster];
  assert.ok(st?.lastNack && st.lastNack.message.length < 600, 'syncz keeps the whole error_detail');
});

test('a proxy NACKing every push is logged once per interval, the rest counted', async () => {
  const s = stream('nacker');
  s.send({ type_url: TYPE.cluster, resource_names: [] });
  let r = await s.next();
  logs.length = 0;
  for (let i = 0; i < 20; i++) {
    s.send({ type_url: TYPE.cluster, resource_names: [], response_nonce: r.nonce, error_detail: { message: `bad ${i}` } });
    // A new model, a new push of CDS, NACKed in turn.
    source.set([{ ...svc, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'grpc', port: 8081 + i }] } }]);
    r = await s.next();
  }
  source.set([svc]);
  const lines = logs.filter((l) => l.includes('NACK'));
  assert.equal(lines.length, 1, lines.join('\n'));
  assert.match(lines[0] as string, /^NACK from nacker for Cluster version \w+: bad 0$/);
});

test('a stream asking for more type URLs than the cap is closed with RESOURCE_EXHAUSTED naming the cap', async () => {
  const s = stream('types');
  for (let i = 0; i < 20_000; i++) s.send({ type_url: `type.googleapis.com/junk.T${i}`, resource_names: [] });
  await assert.rejects(s.next(), /RESOURCE_EXHAUSTED: a stream may subscribe to at most 8 type URLs/);
  // syncz forgot the stream and holds nothing of its junk.
  assert.ok(!JSON.stringify(cp.syncz()).includes('junk.T8'));
});

test('more resource names of one type than the cap closes the stream (SotW and delta)', async () => {
  const s = stream('names');
  s.send({ type_url: TYPE.cluster, resource_names: Array.from({ length: 101 }, (_, i) => `n${i}`) });
  await assert.rejects(s.next(), /RESOURCE_EXHAUSTED: a stream may subscribe to at most 100 resource names of one type/);
  const d = new DeltaAdsClient(cp.ads.serviceDefinition(), port, 'delta-names', { NAMESPACE: 'shop' });
  streams.push(d);
  // Subscriptions add up over requests.
  d.send({ type_url: TYPE.cluster, resource_names_subscribe: Array.from({ length: 60 }, (_, i) => `a${i}`) });
  await d.next();
  d.send({ type_url: TYPE.cluster, resource_names_subscribe: Array.from({ length: 60 }, (_, i) => `b${i}`) });
  await assert.rejects(d.next(), /RESOURCE_EXHAUSTED: a stream may subscribe to at most 100 resource names of one type; .* would have 120/);
});

test('a stream within the caps is served as before', async () => {
  const s = stream('fine');
  s.send({ type_url: TYPE.cluster, resource_names: Array.from({ length: 100 }, (_, i) => (i === 0 ? CA : `n${i}`)) });
  assert.equal((await s.next()).resources.length, 1);
});

test('a plaintext stream reusing the node id of a TLS stream with a token cannot overwrite its status or steer its config', async () => {
  // The TLS port's handlers, on a second server: the transport is declared, as run.ts does.
  const tls = new grpc.Server();
  tls.addService(cp.ads.serviceDefinition(), cp.ads.handlers({ transport: 'tls' }));
  const tlsPort = await new Promise<number>((resolve, reject) => tls.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))));
  try {
    const id = 'sidecar~10.0.0.9~web-1.shop~shop.svc.cluster.local';
    const legit = new AdsClient(cp.ads.serviceDefinition(), tlsPort, id, { NAMESPACE: 'shop', POD_NAME: 'web-1' }, { token: 'the-pods-own-token' });
    streams.push(legit);
    legit.send({ type_url: TYPE.cluster, resource_names: [] });
    await legit.next(5000);
    const before = cp.syncz().proxies.filter((p) => p.id === id);
    const dump = JSON.stringify(cp.configDump(id));
    assert.equal(before.length, 1);
    const intruder = stream(id);
    Object.assign(intruder.metadata, { NAMESPACE: 'billing', POD_NAME: 'evil' });
    intruder.send({ type_url: TYPE.cluster, resource_names: [] });
    await intruder.next(5001);
    intruder.send({ type_url: TYPE.listener, resource_names: [], error_detail: { message: 'pretend' } });
    await intruder.next(5002);
    const after = cp.syncz().proxies.filter((p) => p.id === id);
    assert.equal(after.length, 2, 'the intruder has an entry of its own');
    const mine = after.find((p) => p.namespace === 'shop');
    assert.ok(mine, JSON.stringify(after.map((p) => p.namespace)));
    assert.equal(mine.pod, 'web-1');
    assert.equal(mine.streams.length, 1);
    assert.deepEqual(Object.keys(mine.streams[0]!.types), [TYPE.cluster]);
    assert.equal(JSON.stringify(cp.configDump(id)), dump, 'config_dump of the id shows the TLS proxy');
    assert.equal(await legit.nothing(200), undefined, 'the TLS proxy was pushed config because of the intruder');
  } finally {
    tls.forceShutdown();
  }
});
