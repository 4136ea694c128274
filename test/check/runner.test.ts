import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runChecks, type Check } from '../../src/checks/index.ts';
import { MeshError, toMeshError } from '../../src/errors.ts';

const check = (id: string, run: Check<null>['run'], severity: 'error' | 'warning' = 'error'): Check<null> => ({ id, category: id.split('.')[0]!, description: `${id} is fine`, severity, hintAnchor: id.replace('.', '-'), run });

test('runChecks runs checks in parallel and returns results in catalog order', async () => {
  let running = 0;
  let peak = 0;
  let open!: () => void;
  const gate = { promise: new Promise<void>((r) => (open = r)), resolve: () => open() };
  const slow = (id: string): Check<null> =>
    check(id, async () => {
      running++;
      peak = Math.max(peak, running);
      if (running === 3) gate.resolve();
      await gate.promise;
      running--;
      return { status: 'pass', message: id };
    });
  const seen: string[] = [];
  const ran = await runChecks([slow('a.1'), slow('b.2'), slow('c.3')], null, (r) => seen.push(r.result.id));
  assert.equal(peak, 3, 'all three were running at once');
  assert.deepEqual(ran.map((r) => r.result.id), ['a.1', 'b.2', 'c.3']);
  assert.deepEqual([...seen].sort(), ['a.1', 'b.2', 'c.3']);
  assert.equal(ran[0]!.result.docs, 'docs/checks.md#a-1');
});

test('a check that times out fails with "timed out" and does not hide the others', async () => {
  let aborted = false;
  const never = check('slow.hang', (_ctx, signal) => new Promise(() => signal.addEventListener('abort', () => (aborted = true))));
  const ran = await runChecks([never, check('fast.ok', async () => ({ status: 'pass', message: 'ok' }))], null, undefined, { timeoutMs: 50 });
  assert.equal(ran[0]!.result.status, 'fail');
  assert.equal(ran[0]!.result.reason, 'timeout');
  assert.match(ran[0]!.result.message, /timed out after 50ms/);
  assert.ok(aborted, 'the check was told to stop');
  assert.equal(ran[1]!.result.status, 'pass');
});

test('forbidden requests skip the check (with why); other errors fail it; unreachable is marked', async () => {
  const forbidden = toMeshError(Object.assign(new Error('pods is forbidden: User "dev" cannot list resource "pods"'), { statusCode: 403 }));
  const unreachable = toMeshError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }));
  const ran = await runChecks(
    [
      check('a.forbidden', async () => { throw forbidden; }),
      check('a.broken', async () => { throw new Error('boom'); }),
      check('a.unreachable', async () => { throw unreachable; }),
      check('a.usage', async () => { throw new MeshError('bad', { hint: 'fix it' }); }),
    ],
    null,
  );
  const [f, b, u, m] = ran.map((r) => r.result);
  assert.equal(f!.status, 'skip');
  assert.equal(f!.reason, 'forbidden');
  assert.match(f!.message, /not allowed: .*cannot list resource "pods"/);
  assert.ok(f!.hint);
  assert.equal(b!.status, 'fail');
  assert.equal(b!.message, 'boom');
  assert.equal(u!.status, 'fail');
  assert.equal(u!.reason, 'unreachable');
  assert.equal(m!.hint, 'fix it');
});

test('a warning-severity check that fails is reported as a warning', async () => {
  const ran = await runChecks([check('v.old', async () => ({ status: 'fail', message: 'old', hint: 'upgrade' }), 'warning')], null);
  assert.equal(ran[0]!.result.status, 'warn');
  assert.equal(ran[0]!.result.hint, 'upgrade');
});

test('concurrency bounds how many checks run at once', async () => {
  let running = 0;
  let peak = 0;
  const c = (id: string): Check<null> =>
    check(id, async () => {
      running++;
      peak = Math.max(peak, running);
      await new Promise((r) => setImmediate(r));
      running--;
      return { status: 'pass', message: '' };
    });
  await runChecks(Array.from({ length: 10 }, (_, i) => c(`x.${i}`)), null, undefined, { concurrency: 2 });
  assert.equal(peak, 2);
});
