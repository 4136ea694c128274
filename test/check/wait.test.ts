import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Cluster } from '../../src/cluster/types.ts';
import { ROUND_END } from '../../src/checks/dns-pod.ts';
import type { TestCluster } from '../support/kube.ts';
import { check, failing, healthy, ready, recordCreates, status, useRoots, type Obj } from './live-support.ts';

useRoots();

const HOST = 'web.shop.svc.cluster.local';
/** One pass of the lookup pod's log, as busybox nslookup prints it. */
const pass = (ip: string | undefined): string =>
  `== ${HOST}\nServer: 10.96.0.10\nAddress: 10.96.0.10:53\n\n${ip ? `Name: ${HOST}\nAddress: ${ip}\n` : `** server can't find ${HOST}: NXDOMAIN\n`}${ROUND_END}\n`;

test('--wait re-runs only the checks that failed, and reuses one DNS lookup pod for every round, deleting it at the end', async () => {
  let server: TestCluster | undefined;
  let podName = '';
  let clusterIp = '';
  let round = 0;
  let afterFirst: { version: number; rootCa: number } | undefined;
  const count = (pred: (r: { method: string; path: string }) => boolean): number => server!.server.requests.filter(pred).length;
  const versionGets = () => count((r) => r.method === 'GET' && r.path === '/version');
  const rootCaGets = () => count((r) => r.method === 'GET' && r.path === '/api/v1/namespaces/mesh-system/secrets/mesh-root-ca');
  const { report, code, cluster } = await check({
    flags: { wait: '1m', failOn: 'warning' },
    // The stand-in kubelet below runs the pod at once; the deadline only bounds a broken stand-in.
    live: { dnsPodTimeoutMs: 30_000 },
    // The controller pod is not ready yet: control-plane.pods-ready fails in the first round.
    edit: (o) => o.map((x) => (x.metadata.name === 'mesh-controller-1' ? { ...x, status: { phase: 'Pending' } } : x)),
    setup: (c) => void (server = c),
    wrap: (c) => {
      const w = Object.create(c) as Cluster;
      // Stand in for the kubelet: the lookup pod runs, and its first pass finds no answer.
      w.create = async (o) => {
        const made = await c.create(o);
        podName = o.metadata.name;
        clusterIp = String(((await c.get('v1', 'Service', 'web', 'shop'))?.spec as Obj).clusterIP);
        server!.server.setPodLogs('mesh-system', podName, 'lookup', pass(undefined));
        server!.server.seed([{ ...o, status: { phase: 'Running' } }]);
        return made;
      };
      return w;
    },
    sleep: async () => {
      round++;
      if (round === 1) {
        afterFirst = { version: versionGets(), rootCa: rootCaGets() };
        // Between the rounds the controller becomes ready and CoreDNS starts answering.
        server!.server.seed([{ ...healthy().find((x) => x.metadata.name === 'mesh-controller-1')!, status: ready }]);
        server!.server.setPodLogs('mesh-system', podName, 'lookup', pass(undefined) + pass(clusterIp));
      }
    },
  });
  server = cluster;
  assert.equal(round, 1, 'healthy after the second round');
  assert.equal(code, 0, JSON.stringify(failing(report)));
  assert.equal(status(report, 'control-plane.pods-ready'), 'pass');
  assert.equal(status(report, 'dns.service-resolution'), 'pass');
  assert.ok(afterFirst && afterFirst.version > 0 && afterFirst.rootCa > 0, 'the first round ran every check');
  assert.equal(versionGets(), afterFirst.version, 'the API checks passed in round 1 and did not run again');
  assert.equal(rootCaGets(), afterFirst.rootCa, 'neither did the root CA check');
  const posted = count((r) => r.method === 'POST' && r.path === '/api/v1/namespaces/mesh-system/pods');
  assert.equal(posted, 1, 'one lookup pod for both rounds');
  assert.equal(count((r) => r.method === 'GET' && r.path === `/api/v1/namespaces/mesh-system/pods/${podName}/log`), 2, 'its log was read once per round');
  assert.equal(count((r) => r.method === 'DELETE' && r.path === `/api/v1/namespaces/mesh-system/pods/${podName}`), 1, 'and it was deleted at the end');
});

test('the kept lookup pod repeats its lookups and is bounded by the --wait time', async () => {
  const created: Obj[] = [];
  await check({
    flags: { wait: '2m' },
    wrap: recordCreates(created),
  });
  assert.equal(created.length, 1);
  const spec = created[0]!.spec;
  assert.match(spec.containers[0].command[2], /^while :; do for h in web\.shop\.svc\.cluster\.local; do .*nslookup "\$h".*; echo "--- end of lookups"; sleep \d+; done$/);
  assert.ok(spec.activeDeadlineSeconds >= 120, `activeDeadlineSeconds ${spec.activeDeadlineSeconds} covers the whole --wait`);
});
