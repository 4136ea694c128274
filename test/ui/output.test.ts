import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse as parseYaml } from 'yaml';
import { PassThrough } from 'node:stream';
import { parseOutputFormat, renderData, renderTable, type Column } from '../../src/ui/output.ts';
import { colorEnabled, makeColor } from '../../src/ui/color.ts';
import { confirm } from '../../src/ui/prompts.ts';
import { startProgress } from '../../src/ui/progress.ts';
import { MeshError } from '../../src/errors.ts';

interface Row { name: string; ready: string; ip: string }
const cols: Column<Row>[] = [
  { header: 'Name', value: (r) => r.name },
  { header: 'Ready', value: (r) => r.ready },
  { header: 'IP', value: (r) => r.ip, wide: true },
];
const rows: Row[] = [{ name: 'web-1', ready: '2/2', ip: '10.0.0.1' }, { name: 'api', ready: '1/2', ip: '10.0.0.22' }];

test('tables look like kubectl: upper-case headers, aligned, no borders, no trailing spaces', () => {
  assert.equal(renderTable(rows, cols), 'NAME    READY\nweb-1   2/2\napi     1/2\n');
});

test('-o wide adds the wide columns', () => {
  assert.equal(renderTable(rows, cols, { wide: true }), 'NAME    READY   IP\nweb-1   2/2     10.0.0.1\napi     1/2     10.0.0.22\n');
});

test('an empty listing says so', () => {
  assert.equal(renderTable([], cols, { emptyMessage: 'No resources found in default namespace.' }), 'No resources found in default namespace.\n');
});

test('json and yaml round-trip the same data', () => {
  const data = { items: [{ name: 'a', n: 1 }], ok: true };
  assert.deepEqual(JSON.parse(renderData(data, 'json')), data);
  assert.deepEqual(parseYaml(renderData(data, 'yaml')), data);
  assert.ok(renderData(data, 'json').endsWith('}\n'));
});

test('parseOutputFormat accepts listed formats and rejects others with exit 2', () => {
  assert.equal(parseOutputFormat(undefined, ['table', 'json'] as const, 'table'), 'table');
  assert.equal(parseOutputFormat('json', ['table', 'json'] as const, 'table'), 'json');
  assert.throws(() => parseOutputFormat('junit', ['table', 'json'] as const, 'table'), (e: MeshError) => e.exitCode === 2 && /table, json/.test(e.hint ?? ''));
});

test('colour: only on a TTY, never with NO_COLOR or --no-color, FORCE_COLOR forces it', () => {
  assert.equal(colorEnabled({ isTTY: true }, true, {}), true);
  assert.equal(colorEnabled({ isTTY: false }, true, {}), false);
  assert.equal(colorEnabled({ isTTY: true }, true, { NO_COLOR: '1' }), false);
  assert.equal(colorEnabled({ isTTY: true }, true, { NO_COLOR: '' }), true, 'an empty NO_COLOR does not count (no-color.org)');
  assert.equal(colorEnabled({ isTTY: true }, false, {}), false);
  assert.equal(colorEnabled({ isTTY: false }, true, { FORCE_COLOR: '1' }), true);
  assert.equal(makeColor(false).red('x'), 'x');
  assert.equal(makeColor(true).red('x'), '\x1b[31mx\x1b[39m');
});

test('confirm: --yes answers yes; non-interactive input without --yes is a usage error naming --yes', async () => {
  assert.equal(await confirm('Install?', { yes: true, interactive: false }), true);
  await assert.rejects(confirm('Install?', { yes: false, interactive: false }), (e: MeshError) => e.exitCode === 2 && /--yes/.test(e.hint ?? ''));
});

test('progress: plain lines without a TTY, no spinner escape codes', () => {
  const s = new PassThrough();
  let out = '';
  s.on('data', (d) => (out += d));
  const p = startProgress(s, 'applying', { interactive: false });
  p.update('applying 3/10');
  p.succeed('applied 10 objects');
  const q = startProgress(s, 'waiting', { interactive: false });
  q.fail();
  assert.equal(out, '✔ applied 10 objects\n✖ waiting\n');
});
