// The files source under bad files: an oversized file is refused unread, and recovery is logged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesSource } from '../../src/cluster/files-source.ts';
import type { KubeObject } from '../../src/cluster/types.ts';

const svc = (name: string): string => `apiVersion: v1\nkind: Service\nmetadata: {name: ${name}, namespace: shop}\nspec: {ports: [{port: 80}]}\n`;

/** A started source over `dir` (no fs.watch: the test reloads), with what it delivered, reported and logged. */
async function source(dir: string, maxFileBytes: number): Promise<{ src: FilesSource; seen: KubeObject[][]; errors: string[]; logs: string[] }> {
  const seen: KubeObject[][] = [];
  const errors: string[] = [];
  const logs: string[] = [];
  const src = new FilesSource([dir], { watchFiles: false, maxFileBytes, log: (l) => logs.push(l) });
  await src.watch((o) => seen.push(o), (e) => errors.push(e.message));
  return { src, seen, errors, logs };
}

test('a file over the size limit is refused by name, not read, and the last good set stays', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-files-'));
  try {
    writeFileSync(join(dir, 'a.yaml'), svc('web'));
    const { src, seen, errors } = await source(dir, 64 * 1024);
    assert.deepEqual(seen.at(-1)?.map((o) => o.metadata.name), ['web']);
    // Valid YAML, 1 MB of Services: read as-is it would be accepted.
    const big = join(dir, 'big.yaml');
    writeFileSync(big, Array.from({ length: 12_000 }, (_, i) => svc(`s${i}`)).join('---\n'));
    await src.reload();
    assert.equal(seen.length, 1, 'the oversized file was delivered');
    assert.equal(errors.length, 1);
    assert.match(errors[0] as string, new RegExp(`${big.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: \\d+ bytes, over the files source's limit of 65536 bytes; not read`));
    await src.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a bad file that is fixed is logged as readable again, once, and its objects arrive', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-files-'));
  try {
    writeFileSync(join(dir, 'a.yaml'), svc('web'));
    const { src, seen, errors, logs } = await source(dir, 64 * 1024);
    const b = join(dir, 'b.yaml');
    writeFileSync(b, 'apiVersion: v1\nkind: Service\nmetadata: {name: [\n');
    await src.reload();
    assert.equal(errors.length, 1);
    assert.match(errors[0] as string, /b\.yaml/);
    writeFileSync(b, svc('api'));
    await src.reload();
    assert.deepEqual(seen.at(-1)?.map((o) => o.metadata.name), ['web', 'api']);
    assert.deepEqual(logs, [`${b}: readable again`]);
    await src.reload();
    assert.equal(logs.length, 1, 'recovery is logged once');
    // The same for a file that was too big and is removed.
    const big = join(dir, 'big.yaml');
    writeFileSync(big, 'x'.repeat(70 * 1024));
    await src.reload();
    rmSync(big);
    await src.reload();
    assert.deepEqual(logs.slice(1), [`${big}: removed; no longer read`]);
    await src.stop();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
