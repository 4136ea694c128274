// A connection storm: at most maxOpening ADS streams open at once, the rest admitted in arrival
// order as opening ones answer their first response, close, or time out, so no stream starves.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { MemorySource } from '../../src/cluster/source.ts';
import { ControlPlane } from '../../src/controller/controlplane.ts';
import { Admission, type AdmissionTimers } from '../../src/xds/admission.ts';
import { TYPE } from '../../src/xds/protos.ts';
import type { KubeObject } from '../../src/cluster/types.ts';
import { AdsClient } from '../support/ads-client.ts';

/** Timers that fire only when the test says so. */
function manualTimers(): AdmissionTimers & { fire(): void; pending: number } {
  const live = new Map<number, () => void>();
  let next = 0;
  return {
    set: (fn) => (live.set(++next, fn), next),
    clear: (h) => void live.delete(h as number),
    fire: () => {
      const fns = [...live.values()];
      live.clear();
      for (const fn of fns) fn();
    },
    get pending() {
      return live.size;
    },
  };
}

test('the gate admits at most max entries, in arrival order; a released or cancelled entry makes room, a held one times out', () => {
  const timers = manualTimers();
  const gate = new Admission(2, 1000, timers);
  const started: string[] = [];
  const t = ['a', 'b', 'c', 'd', 'e'].map((n) => gate.enter(() => started.push(n)));
  assert.deepEqual(started, ['a', 'b']);
  assert.equal(gate.queued, 3);
  t[3]!.release(); // d gives up while waiting: skipped when its turn comes
  t[0]!.release();
  assert.deepEqual(started, ['a', 'b', 'c']);
  t[0]!.release(); // twice is once
  assert.equal(gate.opening, 2);
  timers.fire(); // b and c held their slots too long
  assert.deepEqual(started, ['a', 'b', 'c', 'e']);
  assert.equal(gate.opening, 1);
  assert.equal(gate.queued, 0);
  t[4]!.release();
  assert.equal(gate.opening, 0);
  assert.equal(timers.pending, 0, 'no timer outlives its entry');
});

const objects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'a', namespace: 'shop' }, spec: { clusterIP: '10.96.0.1', ports: [{ name: 'grpc', port: 8080 }] } },
  { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'a', namespace: 'shop', labels: { 'kubernetes.io/service-name': 'a' } }, addressType: 'IPv4', ports: [{ name: 'grpc', port: 9090 }], endpoints: [{ addresses: ['10.1.0.1'] }] },
];
let cp: ControlPlane;
let port: number;
const open: AdsClient[] = [];

before(async () => {
  // A slot is held for a minute unless the stream answers or closes: this test never waits on it.
  cp = new ControlPlane({ source: new MemorySource(objects), adsLimits: { maxOpening: 2, openHoldMs: 60_000 } });
  port = await cp.start({ host: '127.0.0.1', port: 0 });
});

after(async () => {
  for (const s of open) s.call.cancel();
  await cp.stop();
});

/** Open a stream asking for CDS; resolves once the server has either admitted or queued it. */
async function connect(id: string): Promise<AdsClient> {
  const seen = cp.ads.admission.admitted + cp.ads.admission.queued;
  const s = new AdsClient(cp.ads.serviceDefinition(), port, id, { NAMESPACE: 'shop', PROXY_KIND: 'grpc' });
  open.push(s);
  s.send({ type_url: TYPE.cluster, resource_names: [] });
  for (let i = 0; i < 10_000 && cp.ads.admission.admitted + cp.ads.admission.queued === seen; i++) await turn();
  return s;
}

function pushes(id: string): number {
  return cp.syncz().proxies.find((p) => p.id === id)?.streams.at(-1)?.types[TYPE.cluster]?.pushes ?? 0;
}

test('a storm of ADS streams: two open at once, the rest served in arrival order as slots free', async () => {
  const a = await connect('a');
  const b = await connect('b');
  const ra = await a.next();
  await b.next();
  const [c, d, e] = [await connect('c'), await connect('d'), await connect('e')];
  assert.equal(cp.ads.admission.queued, 3, 'c, d and e wait: a and b have not answered');
  assert.equal(pushes('c') + pushes('d') + pushes('e'), 0);
  // a ACKs: its slot goes to c, the first in line.
  a.send({ type_url: TYPE.cluster, version_info: ra.version_info, response_nonce: ra.nonce, resource_names: [] });
  const rc = await c.next();
  assert.equal(pushes('d') + pushes('e'), 0, 'd and e still wait');
  // b goes away without answering: its slot goes to d.
  b.call.cancel();
  await d.next();
  assert.equal(pushes('e'), 0);
  // c NACKs (an answer too): e, last in line, is served.
  c.send({ type_url: TYPE.cluster, version_info: '', response_nonce: rc.nonce, resource_names: [], error_detail: { code: 3, message: 'no' } });
  const re = await e.next();
  assert.equal(re.type_url, TYPE.cluster);
  assert.equal(cp.ads.admission.queued, 0);
});
