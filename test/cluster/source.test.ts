// The one Source interface: every implementation lists with the same filters, and a watch
// delivers the whole set first and again after each change.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FilesSource } from '../../src/cluster/files-source.ts';
import { MemorySource, type Source, type SourceChanges } from '../../src/cluster/source.ts';
import type { KubeObject } from '../../src/cluster/types.ts';

const objects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'shop' } },
  { apiVersion: 'v1', kind: 'Service', metadata: { name: 'db', namespace: 'data' } },
  { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop' } },
];

const yaml = (os: KubeObject[]): string => os.map((o) => JSON.stringify(o)).join('\n---\n');

const cases: { name: string; opts?: Parameters<Source['list']>[0]; want: string[] }[] = [
  { name: 'everything', want: ['Namespace/shop', 'Service/web', 'Service/db', 'Pod/web-1'] },
  { name: 'one kind', opts: { kinds: [{ apiVersion: 'v1', kind: 'Service' }] }, want: ['Service/web', 'Service/db'] },
  { name: 'one namespace keeps cluster-scoped objects', opts: { namespace: 'shop' }, want: ['Namespace/shop', 'Service/web', 'Pod/web-1'] },
  { name: 'kind and namespace', opts: { kinds: [{ apiVersion: 'v1', kind: 'Service' }], namespace: 'data' }, want: ['Service/db'] },
  { name: 'an apiVersion that does not match', opts: { kinds: [{ apiVersion: 'v2', kind: 'Service' }] }, want: [] },
];

test('memory and files sources list alike', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-source-'));
  try {
    await writeFile(join(dir, 'all.yaml'), yaml(objects));
    const sources: Source[] = [new MemorySource(objects), new FilesSource([dir], { watchFiles: false })];
    for (const source of sources) {
      for (const c of cases) {
        const got = (await source.list(c.opts)).map((o) => `${o.object.kind}/${o.object.metadata.name}`);
        assert.deepEqual(got, c.want, `${source.description}: ${c.name}`);
      }
    }
    const located = await sources[1]!.list({ kinds: [{ apiVersion: 'v1', kind: 'Pod' }] });
    assert.deepEqual(located[0]?.location, { file: join(dir, 'all.yaml'), line: 7 });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('a files watch delivers the set, then the reloaded set; a bad reload keeps the last good one', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'mesh-source-'));
  const source = new FilesSource([dir], { watchFiles: false });
  try {
    await writeFile(join(dir, 'a.yaml'), yaml(objects.slice(0, 2)));
    const seen: string[][] = [];
    const errors: string[] = [];
    const w = await source.watch((os) => seen.push(os.map((o) => o.metadata.name)), (e) => errors.push(e.message));
    assert.deepEqual(seen, [['shop', 'web']]);
    await writeFile(join(dir, 'a.yaml'), yaml(objects.slice(1, 2)));
    await source.reload();
    assert.deepEqual(seen, [['shop', 'web'], ['web']]);
    await writeFile(join(dir, 'a.yaml'), 'kind: [');
    await source.reload();
    assert.equal(seen.length, 2);
    assert.equal(errors.length, 1);
    await w.stop();
    await source.reload();
    assert.equal(seen.length, 2, 'a stopped watch gets nothing');
  } finally {
    await source.stop();
    await rm(dir, { recursive: true, force: true });
  }
});

test('a memory watch gets every set', async () => {
  const source = new MemorySource(objects.slice(0, 1));
  const seen: number[] = [];
  const w = await source.watch((os) => seen.push(os.length), () => undefined);
  source.set(objects);
  await w.stop();
  source.set([]);
  assert.deepEqual(seen, [1, 4]);
});

test('a memory source change puts objects in place by key, adds and deletes, and tells the watches what changed', async () => {
  const source = new MemorySource(objects.slice(0, 3));
  const seen: { names: string[]; changes?: SourceChanges }[] = [];
  const w = await source.watch((os, changes) => seen.push({ names: os.map((o) => `${o.kind}/${o.metadata.name}`), ...(changes ? { changes } : {}) }), () => undefined);
  const [a, b, c] = objects as [KubeObject, KubeObject, KubeObject, KubeObject];
  const a2 = { ...a, metadata: { ...a.metadata, labels: { v: '2' } } };
  source.change([a2, objects[3]!], [b]);
  await w.stop();
  assert.deepEqual(seen[1]!.names, [a, c, objects[3]!].map((o) => `${o.kind}/${o.metadata.name}`), 'in place, added at the end, deleted');
  assert.deepEqual(seen[1]!.changes, { set: [a2, objects[3]], deleted: [b] });
  assert.equal((await source.list())[0]!.object, a2);
});
