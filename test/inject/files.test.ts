import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { loadObjects, readDocuments, splitDocuments, type SourceDocument } from '../../src/cluster/files.ts';
import type { MeshError } from '../../src/errors.ts';

const dir = () => mkdtempSync(join(tmpdir(), 'mesh-files-'));
async function all(inputs: string[], opts?: Parameters<typeof readDocuments>[1]): Promise<SourceDocument[]> {
  const out: SourceDocument[] = [];
  for await (const d of readDocuments(inputs, opts)) out.push(d);
  return out;
}
const cm = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

test('multi-document YAML: index, start line, raw text with comments, comment-only documents', async () => {
  const d = dir();
  const text = `---\n# first\n${cm('a')}--- # the second\n${cm('b')}---\n---\n# only a comment\n...\n${cm('c')}`;
  writeFileSync(join(d, 'm.yaml'), text);
  const docs = await all([join(d, 'm.yaml')]);
  assert.deepEqual(docs.map((x) => [x.index, x.line, x.object?.metadata.name ?? null]), [[0, 2, 'a'], [1, 7, 'b'], [2, 14, null], [3, 16, 'c']]);
  assert.equal(docs[0]!.raw, `# first\n${cm('a')}`);
  assert.equal(docs[1]!.raw, `# the second\n${cm('b')}`);
  assert.equal(docs[2]!.raw, '# only a comment\n');
});

test('kind: List is expanded (or kept with expandLists: false); JSON files are read', async () => {
  const d = dir();
  writeFileSync(join(d, 'l.yaml'), `apiVersion: v1\nkind: List\nitems:\n- ${cm('x').trimEnd().replace(/\n/g, '\n  ')}\n- ${cm('y').trimEnd().replace(/\n/g, '\n  ')}\n`);
  writeFileSync(join(d, 'j.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'j' } }, null, 2));
  const docs = await all([join(d, 'l.yaml'), join(d, 'j.json')]);
  assert.deepEqual(docs.map((x) => x.object?.metadata.name), ['x', 'y', 'j']);
  assert.equal(docs[1]!.index, 0, 'list items share the document index');
  const kept = await all([join(d, 'l.yaml')], { expandLists: false });
  assert.equal(kept.length, 1);
  assert.equal(kept[0]!.object!.kind, 'List');
});

test('directories: manifests only, sorted by name; subdirectories only with recursive', async () => {
  const d = dir();
  writeFileSync(join(d, 'b.yaml'), cm('b'));
  writeFileSync(join(d, 'a.yml'), cm('a'));
  writeFileSync(join(d, 'notes.txt'), 'not yaml: [');
  mkdirSync(join(d, 'sub'));
  writeFileSync(join(d, 'sub', 'c.json'), JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'c' } }));
  assert.deepEqual((await loadObjects([d])).map((x) => x.object.metadata.name), ['a', 'b']);
  const rec = await loadObjects([d], { recursive: true });
  assert.deepEqual(rec.map((x) => x.object.metadata.name), ['a', 'b', 'c']);
  assert.equal(rec[2]!.source, join(d, 'sub', 'c.json'));
});

test('stdin streams: the first document is yielded before the input ends', async () => {
  const stdin = new PassThrough();
  const it = readDocuments(['-'], { stdin });
  stdin.write(`${cm('first')}---\n`);
  const first = await it.next();
  assert.equal((first.value as SourceDocument).object!.metadata.name, 'first');
  assert.equal((first.value as SourceDocument).source, '-');
  stdin.write(cm('second').slice(0, 20));
  stdin.end(cm('second').slice(20));
  const second = await it.next();
  assert.equal((second.value as SourceDocument).object!.metadata.name, 'second');
  assert.equal((await it.next()).done, true);
});

test('a multibyte character split across chunks is decoded intact', async () => {
  const stdin = new PassThrough();
  const bytes = Buffer.from(`${cm('x')}data:\n  k: "日本"\n`);
  const cut = bytes.indexOf(Buffer.from('日')) + 1;
  const p = all(['-'], { stdin });
  stdin.write(bytes.subarray(0, cut));
  stdin.end(bytes.subarray(cut));
  assert.equal(((await p)[0]!.object as any).data.k, '日本');
});

const fails = async (p: Promise<unknown>, message: RegExp, hint?: RegExp) =>
  assert.rejects(p, (e: MeshError) => {
    assert.equal(e.exitCode, 2);
    assert.match(e.message, message);
    if (hint) assert.match(e.hint ?? '', hint);
    return true;
  });

test('bad YAML names the file, the document, the line and column, with a hint', async () => {
  const d = dir();
  const f = join(d, 'bad.yaml');
  writeFileSync(f, `${cm('ok')}---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n    bad: indent\n`);
  await fails(all([f]), new RegExp(`^${f.replace(/[/.]/g, '\\$&')}: document 2 \\(line 10, column 8\\): invalid YAML: bad indentation`), /indentation/);
});

test('aliases that expand past a bound are an input error; modest ones are fine', async () => {
  const d = dir();
  const bomb = ['a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]', ...'bcdef'.split('').map((k, i) => `${k}: &${k} [${Array(9).fill(`*${'abcdef'[i]}`).join(', ')}]`)].join('\n');
  writeFileSync(join(d, 'bomb.yaml'), `${cm('ok')}---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n${bomb.replace(/^/gm, '  ')}\n`);
  await fails(all([join(d, 'bomb.yaml')]), /bomb\.yaml: document 2 \(line 6\): invalid YAML: its aliases expand to more than \d+ nodes/, /anchors/);
  writeFileSync(join(d, 'cycle.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: &m {name: x, self: *m}\n');
  await fails(all([join(d, 'cycle.yaml')]), /cycle\.yaml: document 1 \(line 1\): invalid YAML: its aliases expand/);
  // Aliases however they are written (block sequence items, a tab before, a name of unusual characters) are counted.
  const block = ['a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1]', ...'bcdef'.split('').map((k, i) => `${k}: &${k}\n${Array(9).fill(`  -\t*${'abcdef'[i]}`).join('\n')}`)].join('\n').replace(/&f\n/, '&é\n').replaceAll('*f', '*é');
  writeFileSync(join(d, 'block.yaml'), `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata:\n${block.replace(/^/gm, '  ')}\n`);
  await fails(all([join(d, 'block.yaml')]), /block\.yaml: document 1 \(line 1\): invalid YAML: its aliases expand/);
  // A cron schedule's asterisks are not aliases.
  writeFileSync(join(d, 'cron.yaml'), 'apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: x}\nspec: {schedule: 0 3 * * *}\n');
  assert.equal(((await all([join(d, 'cron.yaml')]))[0]!.object!.spec as { schedule: string }).schedule, '0 3 * * *');
  writeFileSync(join(d, 'ok.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x, labels: &l {app: x}}\ndata: *l\n');
  assert.deepEqual((await all([join(d, 'ok.yaml')]))[0]!.object!.data, { app: 'x' });
});

test('documents that are not objects, or lack kind, are input errors naming them', async () => {
  const d = dir();
  writeFileSync(join(d, 's.yaml'), `${cm('a')}---\njust a string\n`);
  await fails(all([join(d, 's.yaml')]), /s\.yaml: document 2 \(line 6\): not a Kubernetes object/);
  writeFileSync(join(d, 'k.yaml'), 'apiVersion: v1\nmetadata: {name: x}\n');
  await fails(all([join(d, 'k.yaml')]), /document 1 \(line 1\): the object has no "kind"/);
});

test('a missing path is an input error naming it', async () => {
  await fails(all(['/nonexistent/app.yaml']), /^\/nonexistent\/app\.yaml: no such file or directory/, /check the path/);
});

test('http(s) URLs are fetched; an HTTP error names the URL and status', async (t) => {
  const server = createServer((req, res) => {
    if (req.url === '/app.yaml') res.end(`${cm('remote')}---\n${cm('remote2')}`);
    else res.writeHead(404).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  t.after(() => server.close());
  const { port } = server.address() as { port: number };
  const docs = await all([`http://127.0.0.1:${port}/app.yaml`]);
  assert.deepEqual(docs.map((x) => x.object!.metadata.name), ['remote', 'remote2']);
  assert.equal(docs[0]!.source, `http://127.0.0.1:${port}/app.yaml`);
  await fails(all([`http://127.0.0.1:${port}/missing.yaml`]), /cannot fetch http:\/\/127\.0\.0\.1:\d+\/missing\.yaml: HTTP 404/);
});

test('property: splitting a stream into documents does not depend on how it is chunked', async () => {
  const fc = (await import('fast-check')).default;
  const { toYaml } = await import('../../src/cluster/yaml.ts');
  const object = fc.record({ name: fc.stringMatching(/^[a-z]{1,8}$/), note: fc.string(), n: fc.integer() }).map((r) => ({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: r.name }, data: { note: r.note, n: String(r.n) } }));
  const doc = fc.oneof(object.map((o) => ({ o: o as any, text: toYaml(o) })), fc.constant({ o: null, text: '# just a comment\n' }));
  await fc.assert(
    fc.asyncProperty(fc.array(doc, { minLength: 1, maxLength: 6 }), fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1 }), async (docs, cuts) => {
      const text = docs.map((d) => d.text).join('---\n');
      const stdin = new PassThrough();
      const p = all(['-'], { stdin });
      let at = 0;
      for (let i = 0; at < text.length; i++) {
        const n = cuts[i % cuts.length]!;
        stdin.write(text.slice(at, at + n));
        at += n;
      }
      stdin.end();
      const got = await p;
      assert.deepStrictEqual(got.map((g) => g.object), docs.map((d) => d.o));
      assert.deepStrictEqual(got.map((g) => g.raw), docs.map((d) => d.text));
    }),
    { numRuns: 200 },
  );
});

async function split(text: string, sizes: number[]): Promise<{ text: string; line: number }[]> {
  async function* chunks() {
    for (let at = 0, i = 0; at < text.length; i++) {
      const n = sizes[i % sizes.length]!;
      yield text.slice(at, at + n);
      at += n;
    }
  }
  const out: { text: string; line: number }[] = [];
  for await (const d of splitDocuments(chunks())) out.push(d);
  return out;
}

test('property: markers split across chunks ("---", "--- x", "---\\r", "... x") split as in one chunk', async () => {
  const fc = (await import('fast-check')).default;
  const line = fc.constantFrom('---', '...', '--- a: 1', '---  \t', '... dropped', 'a: 1', 'b: "---"', ' ---', '# c', '', '---\r', 'x: y\r', '-- ', '----', '..');
  await fc.assert(
    fc.asyncProperty(fc.array(line, { minLength: 1, maxLength: 8 }), fc.boolean(), fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }), async (lines, nl, sizes) => {
      const text = lines.join('\n') + (nl ? '\n' : '');
      assert.deepStrictEqual(await split(text, sizes), await split(text, [text.length]));
    }),
    { numRuns: 2000 },
  );
  assert.deepStrictEqual(await split('a: 1\n--- b: 2\n... x\nc: 3\n', [3]), [{ text: 'a: 1\n', line: 1 }, { text: 'b: 2\n', line: 2 }, { text: 'c: 3\n', line: 4 }]);
});

test('splitting is linear: one 32 MB scalar costs about 8 times one 4 MB scalar, not 64 times', async () => {
  // Before, the growing document was copied again for every 64 KiB chunk (4 MB: 0.09 s, 32 MB: ~5 s).
  // CPU time of this process, not wall time: other processes on a busy machine do not count.
  const cpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const time = async (mb: number) => {
    const text = `data: "${'x'.repeat(mb * 1_000_000)}"\n`;
    let best = Infinity;
    for (let i = 0; i < 3; i++) {
      const t = cpuMs();
      const docs = await split(text, [65536]);
      best = Math.min(best, cpuMs() - t);
      assert.equal(docs[0]!.text.length, text.length);
    }
    return best;
  };
  const small = await time(4);
  const large = await time(32);
  assert.ok(large < 24 * small + 100, `4 MB: ${small.toFixed(0)} ms, 32 MB: ${large.toFixed(0)} ms`);
});

test('template files ({{ }} and {% %} placeholders) are refused naming the file and line, with a hint to render them', async () => {
  const d = dir();
  const head = 'apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n';
  const cases: [string, number, RegExp][] = [
    [`${head}  replicas: {{replicas}}\n`, 5, /replicas: \{\{replicas\}\}/],
    [`${head}  template:\n    spec:\n      containers:\n      - name: web\n        image: {{ .Values.image }}\n`, 9, /image: \{\{ \.Values\.image \}\}/],
    [`${head}{{- if .Values.ha }}\n  replicas: 3\n{{- end }}\n`, 5, /\{\{- if \.Values\.ha \}\}/],
    [`${head}  replicas: {% if ha %}3{% endif %}\n`, 5, /\{% if ha %\}/],
    [`# a comment {{ x }}\n---\n${head}  replicas: {{replicas}}\n`, 7, /replicas/],
  ];
  for (const [text, line, shown] of cases) {
    const f = join(d, 't.yaml');
    writeFileSync(f, text);
    await assert.rejects(all([f]), (e: MeshError) => {
      assert.equal(e.exitCode, 2);
      assert.match(e.message, new RegExp(`^${f.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: document \\d, line ${line}: a template placeholder`));
      assert.match(e.message, shown);
      assert.match(e.hint ?? '', /render the template first/);
      return true;
    });
  }
  // Placeholders inside quoted strings and block scalars are text: a ConfigMap may hold a Go template.
  const f = join(d, 'cm.yaml');
  writeFileSync(f, 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: alerts}\ndata:\n  t.tmpl: |\n    {{ define "x" }}{{ .Labels.a }}{{ end }}\n  q: "{{ .Values.x }}"\n');
  const [doc] = await all([f]);
  assert.equal((doc!.object!.data as Record<string, string>).q, '{{ .Values.x }}');
});
