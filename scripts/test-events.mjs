// A node:test reporter for scripts/test-shard.mjs workers: one JSON line per test file (a top-level
// suite), appended synchronously to the file named by MESH_TEST_EVENTS: its duration, its counts,
// and the names and errors of its failures. scripts/test.mjs sums them into the suite's summary.
import { appendFileSync } from 'node:fs';
import { inspect } from 'node:util';

export default async function* testEvents(source) {
  const out = process.env.MESH_TEST_EVENTS;
  let file;
  const fresh = () => ({ pass: 0, fail: 0, skipped: 0, todo: 0, cancelled: 0, failures: [] });
  let counts = fresh();
  for await (const event of source) {
    const d = event.data;
    if (event.type === 'test:start' && d.nesting === 0) {
      file = d.name;
      counts = fresh();
      continue;
    }
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    if (d.nesting === 0) {
      if (out && file) appendFileSync(out, JSON.stringify({ file, ms: d.details.duration_ms, ok: event.type === 'test:pass', ...counts, error: event.type === 'test:fail' && counts.fail === 0 ? inspect(d.details.error) : undefined }) + '\n');
      continue;
    }
    // Leaves only: a suite's own pass/fail repeats its children's.
    if (d.details?.type === 'suite') continue;
    if (d.skip !== undefined) counts.skipped++;
    else if (d.todo !== undefined) counts.todo++;
    else if (event.type === 'test:pass') counts.pass++;
    else if (d.details?.error?.failureType === 'cancelledByParent') counts.cancelled++;
    else {
      counts.fail++;
      counts.failures.push({ name: d.name, error: inspect(d.details.error, { depth: 4 }) });
    }
  }
  yield '';
}
