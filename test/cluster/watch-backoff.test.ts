// The watch of a kind the API server does not serve (the HTTPRoute CRD not installed): retries
// back off 1 s doubling to 30 s, one line each, and one warning says what is missing and how to
// install it. The retry timer is the test's, so no retry waits for real time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeWatchError, watchObjects, type RetryTimer } from '../../src/cluster/watch.ts';
import { WATCHED_KINDS } from '../../src/cluster/live-source.ts';
import { startApiServer } from '../support/kube.ts';

const HTTPROUTE = WATCHED_KINDS.find((k) => k.kind === 'HTTPRoute')!;

/** A timer that records each delay asked for and fires at once, up to `limit` retries. */
function instantTimer(limit: number): { timer: RetryTimer; delays: number[]; done: Promise<void> } {
  const delays: number[] = [];
  let resolve!: () => void;
  const done = new Promise<void>((r) => (resolve = r));
  const timer: RetryTimer = {
    set(fn, ms) {
      delays.push(ms);
      if (delays.length >= limit) resolve();
      else setImmediate(fn);
      return delays.length;
    },
    clear: () => undefined,
  };
  return { timer, delays, done };
}

test('a missing CRD: backoff 1 s doubling to 30 s, one line per retry, one warning with the install hint', async () => {
  const c = await startApiServer();
  const errors: string[] = [];
  const logs: string[] = [];
  const { timer, delays, done } = instantTimer(9);
  const w = await watchObjects({ kubeconfig: c.kubeconfigPath }, [HTTPROUTE], () => undefined, (e) => errors.push(e.message), { timer, log: (l) => logs.push(l) });
  try {
    await done;
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000, 30000]);
    assert.equal(errors.length, delays.length, 'one error line per retry');
    for (const e of errors) assert.ok(!e.includes('\n'), `a multi-line entry: ${JSON.stringify(e)}`);
    assert.match(errors[0] as string, /^watch HTTPRoute: .*404.*the server could not find the requested resource.*; retrying in 1s$/);
    assert.equal(logs.length, 1, logs.join('\n'));
    assert.match(logs[0] as string, /^warning: watch HTTPRoute: the API server does not serve gateway\.networking\.k8s\.io\/v1 HTTPRoute \(its CRD is not installed\).*mesh install --gateway-api/);
  } finally {
    await w.stop();
    await c.stop();
  }
});

test('once the CRD is installed the list succeeds, the watch says so once and stops retrying', async () => {
  const c = await startApiServer();
  const errors: string[] = [];
  const logs: string[] = [];
  const delays: number[] = [];
  let fire: (() => void) | undefined;
  const timer: RetryTimer = { set: (fn, ms) => { delays.push(ms); fire = fn; return 0; }, clear: () => undefined };
  const w = await watchObjects({ kubeconfig: c.kubeconfigPath }, [HTTPROUTE], () => undefined, (e) => errors.push(e.message), { timer, log: (l) => logs.push(l) });
  try {
    const retry = async (): Promise<void> => {
      const n = delays.length;
      const f = fire!;
      fire = undefined;
      f();
      for (let i = 0; i < 200 && delays.length === n && !logs.some((l) => l.includes('served now')); i++) await new Promise((r) => setTimeout(r, 10));
    };
    await retry();
    await retry();
    assert.deepEqual(delays, [1000, 2000, 4000]);
    c.server.seed([{ apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: { name: 'httproutes.gateway.networking.k8s.io' }, spec: { group: 'gateway.networking.k8s.io', scope: 'Namespaced', names: { plural: 'httproutes', singular: 'httproute', kind: 'HTTPRoute', listKind: 'HTTPRouteList' }, versions: [{ name: 'v1', served: true, storage: true, schema: { openAPIV3Schema: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true } } }] } }]);
    await retry();
    assert.ok(logs.some((l) => l === 'watch HTTPRoute: the kind is served now; watching it'), logs.join('\n'));
    assert.equal(delays.length, 3, 'a retry was scheduled after the list succeeded');
    assert.equal(errors.length, 3);
  } finally {
    await w.stop();
    await c.stop();
  }
});

test('client-node errors become one line with the API Status message', () => {
  const e = new Error('Failed to fetch resource metadata for x/v1/Y: HTTP-Code: 404\nMessage: Unsuccessful HTTP Request\nBody: "{\\"kind\\":\\"Status\\",\\"message\\":\\"the server could not find the requested resource\\",\\"code\\":404}"\nHeaders: {"date":"now"}');
  assert.deepEqual(describeWatchError(e), { text: 'Failed to fetch resource metadata for x/v1/Y: HTTP-Code: 404 (the server could not find the requested resource)', code: 404 });
  assert.deepEqual(describeWatchError({ code: 410 }), { text: 'HTTP 410', code: 410 });
  assert.deepEqual(describeWatchError(new Error('connect ECONNREFUSED 127.0.0.1:1')), { text: 'connect ECONNREFUSED 127.0.0.1:1' });
});
