import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import { runMeshInProcess, ROOT } from '../support/cli.ts';
import { assertGolden } from '../support/golden.ts';
import { validateWorkload } from './schema.ts';

// Every test/fixtures/inject/<case>.input.yaml is injected by the CLI (in-process) with the flags on its
// first line (`# args: ...`) and must equal <case>.golden.yaml; UPDATE_GOLDEN=1 rewrites them.
const DIR = join(ROOT, 'test/fixtures/inject');
const cases = readdirSync(DIR).filter((f) => f.endsWith('.input.yaml')).map((f) => f.slice(0, -'.input.yaml'.length));

test('there are golden cases', () => assert.ok(cases.length >= 5));

for (const name of cases) {
  test(`golden: ${name}`, async () => {
    const input = join(DIR, `${name}.input.yaml`);
    const first = readFileSync(input, 'utf8').split('\n')[0]!;
    const args = first.startsWith('# args:') ? first.slice('# args:'.length).trim().split(/\s+/).filter(Boolean) : [];
    const r = await runMeshInProcess(['inject', '-f', `test/fixtures/inject/${name}.input.yaml`, ...args]);
    assert.equal(r.code, 0, r.stderr);
    assertGolden(join(DIR, `${name}.golden.yaml`), r.stdout);
    // The output must be valid YAML, and every workload valid against its kind's schema.
    let workloads = 0;
    for (const doc of parseAllDocuments(r.stdout)) {
      assert.equal(doc.errors.length, 0, String(doc.errors[0]));
      const o = doc.toJS() as any;
      for (const item of o?.kind === 'List' ? o.items : [o]) if (validateWorkload(item)) workloads++;
    }
    assert.ok(workloads > 0 || name === 'skipped');
    // Injecting the golden again changes nothing; uninjecting it gives back the input's objects.
    const again = await runMeshInProcess(['inject', '-f', `test/fixtures/inject/${name}.golden.yaml`, ...args]);
    assert.equal(again.stdout, r.stdout, `${name}: re-injection is not byte-identical`);
    const un = await runMeshInProcess(['uninject', '-f', `test/fixtures/inject/${name}.golden.yaml`]);
    assert.equal(un.code, 0, un.stderr);
    const objects = (text: string) => parseAllDocuments(text).map((d) => d.toJS() as unknown);
    assert.deepStrictEqual(objects(un.stdout), objects(readFileSync(input, 'utf8')), `${name}: uninject does not restore the input`);
  });
}

test('golden: skipped documents come out byte for byte', () => {
  const input = readFileSync(join(DIR, 'skipped.input.yaml'), 'utf8');
  assert.equal(readFileSync(join(DIR, 'skipped.golden.yaml'), 'utf8'), input);
});
