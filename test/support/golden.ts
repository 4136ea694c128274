import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { ROOT } from './cli.ts';

/** True when the run was asked to rewrite golden files (`UPDATE_GOLDEN=1 npm test`). */
export const UPDATING_GOLDEN = process.env.UPDATE_GOLDEN === '1';

/**
 * The expected text of the golden file at `path`. With `update` (UPDATE_GOLDEN=1 by default) the
 * file is first rewritten with `actual`. Otherwise a missing golden fails: a normal run never
 * creates one, so deleting a golden (or adding a case without reviewing its output) cannot pass.
 */
export function readGolden(path: string, actual: string, opts: { update?: boolean } = {}): string {
  if (opts.update ?? UPDATING_GOLDEN) writeFileSync(path, actual);
  else if (!existsSync(path)) assert.fail(`golden file ${relative(ROOT, path)} is missing; create it with UPDATE_GOLDEN=1 and review it like code`);
  return readFileSync(path, 'utf8');
}

/** Asserts `actual` equals the golden file at `path` byte for byte (see {@link readGolden}). */
export function assertGolden(path: string, actual: string, opts: { update?: boolean } = {}): void {
  const expected = readGolden(path, actual, opts);
  assert.equal(actual, expected, `output differs from ${relative(ROOT, path)}; if the change is meant, rerun with UPDATE_GOLDEN=1 and review the diff`);
}
