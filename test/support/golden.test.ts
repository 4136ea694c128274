import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { assertGolden, readGolden } from './golden.ts';

// The golden helper is what makes every golden test trustworthy: a normal run compares and never
// writes, so a deleted or forgotten golden file fails instead of silently passing.
function withDir(fn: (dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-golden-'));
  try {
    fn(dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('a missing golden fails, names UPDATE_GOLDEN=1, and is not created by the run', () => {
  withDir((dir) => {
    const path = join(dir, 'case.golden.yaml');
    assert.throws(() => assertGolden(path, 'a: 1\n', { update: false }), (e: Error) => /missing/.test(e.message) && /UPDATE_GOLDEN=1/.test(e.message));
    assert.throws(() => readGolden(path, 'a: 1\n', { update: false }), /UPDATE_GOLDEN=1/);
    assert.equal(existsSync(path), false);
  });
});

test('a golden that differs fails naming UPDATE_GOLDEN=1 and is left as it was', () => {
  withDir((dir) => {
    const path = join(dir, 'case.golden.yaml');
    writeFileSync(path, 'a: 1\n');
    assert.throws(() => assertGolden(path, 'a: 2\n', { update: false }), /UPDATE_GOLDEN=1/);
    assert.equal(readFileSync(path, 'utf8'), 'a: 1\n');
    assertGolden(path, 'a: 1\n', { update: false });
  });
});

test('with UPDATE_GOLDEN=1 the golden is (re)written with the actual output', () => {
  withDir((dir) => {
    const path = join(dir, 'case.golden.yaml');
    assertGolden(path, 'a: 1\n', { update: true });
    assert.equal(readFileSync(path, 'utf8'), 'a: 1\n');
    assert.equal(readGolden(path, 'a: 2\n', { update: true }), 'a: 2\n');
  });
});
