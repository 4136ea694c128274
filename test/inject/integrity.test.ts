// Bad input to `mesh inject` / `mesh uninject` (issue 16, "Data integrity"): every bad document is
// refused by name (file, document, field; exit 2), and a failing run writes nothing to stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureUi } from '../support/ui.ts';
import { runInject, type InjectRunOptions } from '../../src/commands/inject-run.ts';
import type { MeshError } from '../../src/errors.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'mesh-integrity-'));
const deploy = (name: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${name}}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx}]\n`;

/** Run inject (or uninject) on `text` written to a file; the result or the MeshError, with what reached stdout. */
async function inject(text: string, o: Partial<InjectRunOptions> = {}, name = 'in.yaml') {
  const file = join(tmp(), name);
  writeFileSync(file, text);
  const { ui, out, err } = captureUi();
  const base: InjectRunOptions = { mode: 'inject', files: [file], recursive: false, valuesFiles: [], sets: [], fromCluster: false, output: 'yaml', report: 'text', inPlace: false, kubeVersion: '1.30' };
  try {
    const code = await runInject({ ...base, ...o }, ui);
    return { code, out: out(), err: err(), file, error: undefined };
  } catch (e) {
    return { code: (e as MeshError).exitCode, out: out(), err: err(), file, error: e as MeshError };
  }
}

test('null or wrongly typed items and containers: exit 2 naming the file, document and field', async () => {
  const cases: [string, RegExp][] = [
    ['apiVersion: v1\nkind: List\nitems: [null, 5]\n', /document 1 \(line 1\): item 1 of the List is null, not a Kubernetes object/],
    ['apiVersion: v1\nkind: List\nitems:\n- 5\n', /item 1 of the List is 5, not a Kubernetes object/],
    ['apiVersion: v1\nkind: List\nitems:\n- {kind: Pod}\n', /item 1 of the List has no apiVersion or kind/],
    [`${deploy('a')}---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [null]\n`, /document 2 \(line 10\): pod "p": spec\.containers\[0\] is null, expected a container/],
    ['apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: {name: a}\n', /pod "p": spec\.containers is a mapping, expected a list of containers/],
    ['apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{image: x}]\n', /spec\.containers\[0\]\.name is missing, expected a non-empty string/],
    ['apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a}]\n  volumes: [null]\n', /spec\.volumes\[0\] is null, expected a volume/],
    ['apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n    metadata: {labels: null}\n    spec: {containers: [{name: a}]}\n', /spec\.template\.metadata\.labels is null, expected a mapping of strings/],
    ['apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [{name: a, livenessProbe: {httpGet: {port: 80, httpHeaders: [null]}}}]\n', /livenessProbe\.httpGet\.httpHeaders is a list, expected a list of \{name, value\} mappings/],
  ];
  for (const mode of ['inject', 'uninject'] as const) {
    for (const [text, re] of cases) {
      const r = await inject(text, { mode });
      assert.equal(r.code, 2, `${mode}: ${text}`);
      assert.match(r.error!.message, new RegExp(`^${r.file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: document`));
      assert.match(r.error!.message, re);
      assert.doesNotMatch(r.error!.message, /Cannot read properties|is not a function/);
      assert.equal(r.out, '', 'nothing on stdout');
    }
  }
});

test('uninject: a status annotation with wrongly typed lists is a bad annotation (exit 2), not a TypeError', async () => {
  const status = JSON.stringify({ version: '0.1.0', containers: ['mesh-proxy'], initContainers: 5 });
  const r = await inject(`apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  annotations: {mesh.dev/status: '${status}'}\nspec:\n  containers: [{name: a}]\n`, { mode: 'uninject' });
  assert.equal(r.code, 2);
  assert.match(r.error!.message, /annotation mesh\.dev\/status: .* is not the JSON mesh inject writes/);
});

test('a List with empty resources (as linkerd\'s inject_emojivoto_list_empty_resources): the null items are named, exit 2', async () => {
  const list = `---\napiVersion: v1\nkind: List\nmetadata: {}\nitems:\n- ${deploy('web').trimEnd().replace(/\n/g, '\n  ')}\n- null\n- null\n`;
  const r = await inject(list);
  assert.equal(r.code, 2);
  assert.match(r.error!.message, /document 1 \(line 2\): item 2 of the List is null/);
  assert.equal(r.out, '');
  // A List with no items, or an empty one, is passed through as it is.
  for (const empty of ['apiVersion: v1\nkind: List\nitems: []\n', 'apiVersion: v1\nkind: List\nitems:\n']) {
    const ok = await inject(empty);
    assert.equal(ok.code, 0);
    assert.equal(ok.out, empty);
  }
});
