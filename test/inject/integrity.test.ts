// test: own process (sets MESH_INJECT_WORKERS=0 for the whole process; scripts/test.mjs)
// Bad input to `mesh inject` / `mesh uninject` (issue 16, "Data integrity"): every bad document is
// refused by name (file, document, field; exit 2), and a failing run writes nothing to stdout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable, Writable } from 'node:stream';
import { captureUi } from '../support/ui.ts';
import { runMesh } from '../support/cli.ts';
import { runInject, stageFile, type InjectDeps, type InjectRunOptions } from '../../src/commands/inject-run.ts';
import { Spool } from '../../src/commands/spool.ts';
import type { MeshError } from '../../src/errors.ts';

// In-process runs serialise on the main thread (YAML workers load the built dist/; the CLI test below uses them).
process.env.MESH_INJECT_WORKERS = '0';

const tmp = () => mkdtempSync(join(tmpdir(), 'mesh-integrity-'));
const deploy = (name: string) => `apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: ${name}}\nspec:\n  template:\n    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: nginx}]\n`;

/** Run inject (or uninject) on `text` written to a file; the result or the MeshError, with what reached stdout. */
async function inject(text: string, o: Partial<InjectRunOptions> = {}, name = 'in.yaml', deps: InjectDeps = {}) {
  const file = join(tmp(), name);
  writeFileSync(file, text);
  const { ui, out, err } = captureUi();
  const base: InjectRunOptions = { mode: 'inject', files: [file], recursive: false, valuesFiles: [], sets: [], fromCluster: false, output: 'yaml', report: 'text', inPlace: false, kubeVersion: '1.30' };
  try {
    const code = await runInject({ ...base, ...o }, ui, deps);
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
    ['apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Pod, metadata: {name: a}, spec: {containers: [{name: a}]}}\n- {apiVersion: v1, kind: Pod, metadata: {name: b}, spec: {containers: [null]}}\n', /document 1 \(line 1\): item 2 of the List: pod "b": spec\.containers\[0\] is null/],
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

test('a run that fails on its last document writes nothing to stdout (YAML and -o json, in memory and spilled to a file)', async () => {
  const many = Array.from({ length: 300 }, (_, i) => deploy(`web-${i}`)).join('---\n');
  const broken = `${many}---\napiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers: [null]\n`;
  for (const output of ['yaml', 'json'] as const) {
    for (const spoolLimit of [undefined, 4096]) {
      const spoolDir = tmp();
      const r = await inject(broken, { output }, 'in.yaml', { spoolLimit, spoolDir });
      assert.equal(r.code, 2);
      assert.match(r.error!.message, /document 301/);
      assert.equal(r.out, '', `${output}, limit ${spoolLimit}: nothing on stdout`);
      assert.deepEqual(readdirSync(spoolDir), [], 'the spill file is removed');
      // The same input without the broken document: all of it, the same bytes whether spilled or not.
      const ok = await inject(many, { output }, 'in.yaml', { spoolLimit, spoolDir });
      assert.equal(ok.code, 0, String(ok.error?.stack));
      assert.equal(output === 'json' ? JSON.parse(ok.out).items.length : ok.out.split('\n---\n').length, 300);
      assert.deepEqual(readdirSync(spoolDir), []);
      if (spoolLimit === undefined) continue;
      const inMemory = await inject(many, { output });
      assert.equal(ok.out, inMemory.out);
    }
  }
});

test('the spool holds at most its limit in memory and spills the rest to a 0600 file', async () => {
  const dir = tmp();
  const s = new Spool(10_000, dir);
  for (let i = 0; i < 1000; i++) await s.write(`${String(i).padStart(99, '.')}\n`);
  assert.ok(s.spilled);
  assert.ok(s.maxBuffered <= 10_000, `max in memory: ${s.maxBuffered}`);
  const [sub] = readdirSync(dir);
  assert.equal(statSync(join(dir, sub!, 'output')).mode & 0o777, 0o600);
  let got = '';
  const out = new Writable({ write(c, _e, cb) { got += String(c); cb(); } });
  await s.commit(out);
  assert.equal(got.length, 100_000);
  assert.equal(got.split('\n')[999], '999'.padStart(99, '.'));
  assert.deepEqual(readdirSync(dir), []);
});

test('the spool writes UTF-8 text byte for byte, in memory below its limit (no file made) and spilled above it', async () => {
  // Multibyte characters and surrogate pairs, in pieces of every size up to more than a chunk.
  const pieces = Array.from({ length: 400 }, (_, i) => `${i}: é日本🙂`.repeat(1 + ((i * 37) % 90)) + (i % 50 === 0 ? 'x'.repeat(5000) : '') + '\n');
  const want = Buffer.from(pieces.join(''), 'utf8');
  for (const limit of [want.length * 2, 20_000]) {
    const dir = tmp();
    const s = new Spool(limit, dir);
    let made = false;
    for (const p of pieces) {
      await s.write(p);
      made ||= readdirSync(dir).length > 0;
    }
    assert.equal(made, limit < want.length, `limit ${limit}: a file only when the output outgrows the limit`);
    assert.equal(s.spilled, limit < want.length);
    const got: Buffer[] = [];
    await s.commit(new Writable({ write(c: Buffer, _e, cb) { got.push(c); cb(); } }));
    assert.ok(Buffer.concat(got).equals(want), `limit ${limit}: the same bytes`);
    assert.deepEqual(readdirSync(dir), []);
  }
});

test('a spilled spool\'s temporary file is removed even when the process exits first (the CLI exits at once when `| head` closes stdout)', async () => {
  const dir = tmp();
  const before = process.listeners('exit');
  const s = new Spool(4096, dir);
  for (let i = 0; i < 100; i++) await s.write(`${'x'.repeat(99)}\n`);
  assert.ok(s.spilled);
  const added = process.listeners('exit').filter((l) => !before.includes(l));
  assert.equal(added.length, 1, 'one exit hook while the file exists');
  (added[0] as () => void)();
  assert.deepEqual(readdirSync(dir), [], 'removed by the exit hook');
  await s.discard();
  assert.deepEqual(process.listeners('exit'), before, 'the hook is gone once the spool is done');
});

test('mesh inject (YAML worker threads, 1.3 MB of output): a broken last document leaves stdout empty, exit 2', async () => {
  const many = Array.from({ length: 600 }, (_, i) => deploy(`web-${i}`)).join('---\n');
  const r = await runMesh(['inject', '-f', '-', '--kube-version', '1.30'], { input: `${many}---\nkind: List\napiVersion: v1\nitems: [null]\n`, env: { MESH_INJECT_WORKERS: '2' } });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /-: document 601 \(line \d+\): item 1 of the List is null/);
  assert.equal(r.stdout, '');
  const ok = await runMesh(['inject', '-f', '-', '--kube-version', '1.30'], { input: many, env: { MESH_INJECT_WORKERS: '2' } });
  assert.equal(ok.code, 0);
  assert.ok(ok.stdout.length > 1_000_000);
});

test('every command that reads manifests refuses a template (inject, uninject, check -f, proxy-config -f): exit 2, file and line named', async () => {
  const file = join(tmp(), 'deploy.yaml');
  writeFileSync(file, deploy('web').replace('metadata: {name: web}', 'metadata:\n  name: web\n  namespace: {{ .Release.Namespace }}'));
  for (const args of [['inject', '-f', file], ['uninject', '-f', file], ['check', '-f', file], ['proxy-config', 'cluster', 'web', '-f', file]]) {
    const r = await runMesh(args);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /deploy\.yaml: document 1, line 5: a template placeholder \(namespace: \{\{ \.Release\.Namespace \}\}\)/, args.join(' '));
    assert.match(r.stderr, /render the template first/);
    assert.doesNotMatch(r.stderr, /object Object|Warning/);
    assert.doesNotMatch(r.stdout, /object Object/);
  }
});

test("a pod beside another mesh's sidecar is skipped with the reason in the report, unless --force", async () => {
  const others: [string, 'containers' | 'initContainers', string][] = [
    ['linkerd-proxy', 'containers', 'Linkerd'], ['linkerd-init', 'initContainers', 'Linkerd'], ['istio-proxy', 'containers', 'Istio'], ['istio-init', 'initContainers', 'Istio'],
    ['consul-dataplane', 'containers', 'Consul'], ['envoy-sidecar', 'containers', 'Consul'], ['kuma-sidecar', 'containers', 'Kuma'], ['kuma-init', 'initContainers', 'Kuma'],
  ];
  for (const [name, field, mesh] of others) {
    const text = `apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  ${field}: [{name: ${name}, image: x}]\n${field === 'containers' ? '' : '  containers: [{name: app, image: y}]\n'}`;
    const r = await inject(text);
    assert.equal(r.code, 0);
    assert.equal(r.out, text, 'passed through unchanged');
    assert.match(r.err, new RegExp(`pod "p" skipped: runs another mesh's sidecar \\(${mesh}: ${name}; --force injects anyway\\)`));
    assert.match(r.err, /1 resource: 1 skipped \(skipped: 1 runs another mesh's sidecar\)/);
    const json = await inject(text, { report: 'json' });
    assert.equal(JSON.parse(json.err).resources[0].reason, 'otherMesh');
    const forced = await inject(text, { force: true });
    assert.match(forced.err, /pod "p" injected/);
    assert.match(forced.err, new RegExp(`note: injected beside another mesh's sidecar \\(${name}\\) because of --force`));
    assert.match(forced.out, /name: mesh-proxy/);
  }
});

test('inject refuses workload names and namespaces Kubernetes would refuse (exit 2, file and document named); check -f flags them as MSH0017', async () => {
  const bad: [string, RegExp][] = [
    ['metadata: {name: Web_App..-}', /deployment "Web_App\.\.-": metadata\.name "Web_App\.\.-" is not a valid name: it must be a DNS-1123 subdomain/],
    ['metadata: {name: web, namespace: UPPER_case}', /metadata\.namespace "UPPER_case" is not a valid name: it must be a DNS-1123 label/],
    [`metadata: {name: ${'a'.repeat(254)}}`, /must be a DNS-1123 subdomain: at most 253/],
    ['metadata: {name: 5}', /metadata\.name must be a string, not 5/],
  ];
  for (const [md, re] of bad) {
    const text = `${deploy('web')}---\n${deploy('x').replace('metadata: {name: x}', md)}`;
    const r = await inject(text);
    assert.equal(r.code, 2, md);
    assert.match(r.error!.message, /in\.yaml: document 2 \(line 10\): /);
    assert.match(r.error!.message, re);
    assert.equal(r.out, '');
  }
  for (const ok of ['web', 'web.v2', 'a-1', '0web']) assert.equal((await inject(deploy(ok))).code, 0, ok);
  // A Service's name does not stop inject (not a workload); check -f reports both.
  const file = join(tmp(), 'names.yaml');
  writeFileSync(file, deploy('Web_App..-'));
  const r = await runMesh(['check', '-f', file, '-o', 'json']);
  assert.equal(r.code, 1);
  const findings = JSON.parse(r.stdout).findings as { code: string; resource: { name: string } }[];
  assert.ok(findings.some((f) => f.code === 'MSH0017' && f.resource.name === 'Web_App..-'), r.stdout);
});

test('--in-place through a symlink writes the target: the link stays a link', async () => {
  const d = tmp();
  const target = join(d, 'real.yaml');
  writeFileSync(target, deploy('web'));
  mkdirSync(join(d, 'links'));
  const link = join(d, 'links', 'deploy.yaml');
  symlinkSync('../real.yaml', link);
  const { ui } = captureUi();
  const base: InjectRunOptions = { mode: 'inject', files: [join(d, 'links')], recursive: false, valuesFiles: [], sets: [], fromCluster: false, output: 'yaml', report: 'text', inPlace: true, kubeVersion: '1.30' };
  assert.equal(await runInject(base, ui), 0);
  assert.ok(lstatSync(link).isSymbolicLink(), 'the link is still a link');
  assert.equal(readlinkSync(link), '../real.yaml');
  assert.match(readFileSync(target, 'utf8'), /name: mesh-proxy/);
  assert.deepEqual(readdirSync(d).sort(), ['links', 'real.yaml'], 'no temporary file left');
  assert.equal(await runInject({ ...base, mode: 'uninject' }, ui), 0);
  // --in-place edits keep the document's styles, so uninject gives back the original bytes.
  assert.equal(readFileSync(target, 'utf8'), deploy('web'));
  assert.ok(lstatSync(link).isSymbolicLink());
});

test('--in-place: the temporary file has the final mode from the start, whatever the umask', async () => {
  const d = tmp();
  const old = process.umask(0o077);
  try {
    for (const mode of [0o600, 0o640, 0o755, 0o664]) {
      const f = join(d, `m${mode.toString(8)}.yaml`);
      writeFileSync(f, 'x');
      chmodSync(f, mode);
      const { tmp: staged, file } = await stageFile(f, 'hello');
      assert.equal(file, f);
      assert.equal(statSync(staged).mode & 0o7777, mode, `staged file of a ${mode.toString(8)} file`);
      assert.equal(readFileSync(staged, 'utf8'), 'hello');
      rmSync(staged);
    }
  } finally {
    process.umask(old);
  }
  // Through inject: a 0600 file stays 0600 (and nothing else was ever wider).
  const f = join(d, 'secret.yaml');
  writeFileSync(f, deploy('web'), { mode: 0o600 });
  const { ui } = captureUi();
  await runInject({ mode: 'inject', files: [f], recursive: false, valuesFiles: [], sets: [], fromCluster: false, output: 'yaml', report: 'text', inPlace: true, kubeVersion: '1.30' }, ui);
  assert.equal(statSync(f).mode & 0o777, 0o600);
  assert.match(readFileSync(f, 'utf8'), /mesh-proxy/);
});

test('values: stdin that cannot be read, deep nesting and several documents are exit 2 naming the source, not library text', async () => {
  const d = tmp();
  const write = (name: string, text: string) => {
    writeFileSync(join(d, name), text);
    return join(d, name);
  };
  const cases: [string, RegExp][] = [
    [write('deep-flow.yaml', `proxy: ${'['.repeat(20000)}${']'.repeat(20000)}\n`), /deep-flow\.yaml: values nested too deeply to read \(at most 32 levels are allowed\)/],
    [write('deep-block.yaml', `proxy:\n${Array.from({ length: 3000 }, (_, i) => `${'  '.repeat(i + 1)}k${i}:`).join('\n')}\n`), /deep-block\.yaml: values nested (too deeply to read|deeper than 32 levels)/],
    [write('deep-40.yaml', `proxy: ${'{a: '.repeat(40)}1${'}'.repeat(40)}\n`), /deep-40\.yaml: values nested deeper than 32 levels \(at proxy\.a\.a/],
    [write('multi.yaml', 'proxy: {uid: 1500}\n---\nproxy: {uid: 1600}\n'), /multi\.yaml: holds more than one YAML document \(the next starts at line 2\); a values file is one mapping/],
  ];
  for (const [file, re] of cases) {
    const r = await inject(deploy('web'), { valuesFiles: [file] });
    assert.equal(r.code, 2, file);
    assert.match(r.error!.message, re);
    assert.doesNotMatch(r.error!.message, /Maximum call stack|parseAllDocuments/);
    assert.equal(r.out, '');
  }
  // A values file that starts with "---" is still one document.
  assert.equal((await inject(deploy('web'), { valuesFiles: [write('one.yaml', '---\nproxy: {uid: 1500}\n')] })).code, 0);
  // stdin closed by the caller: the read fails with EBADF.
  const closed = new Readable({
    read() {
      this.destroy(Object.assign(new Error('EBADF: bad file descriptor, read'), { code: 'EBADF' }));
    },
  });
  const r = await inject(deploy('web'), { valuesFiles: ['-'] }, 'in.yaml', { stdin: closed });
  assert.equal(r.code, 2);
  assert.match(r.error!.message, /^cannot read values from stdin \(--values -\): EBADF$/);
  assert.match(r.error!.hint ?? '', /--values - < values\.yaml/);
  // The same for the manifests read from stdin.
  const { ui, out } = captureUi();
  const broken = new Readable({
    read() {
      this.destroy(Object.assign(new Error('EBADF: bad file descriptor, read'), { code: 'EBADF' }));
    },
  });
  await assert.rejects(runInject({ mode: 'inject', files: ['-'], recursive: false, valuesFiles: [], sets: [], fromCluster: false, output: 'yaml', report: 'text', inPlace: false, kubeVersion: '1.30' }, ui, { stdin: broken }), (e: MeshError) => {
    assert.equal(e.exitCode, 2);
    assert.equal(e.message, 'cannot read stdin (-f -): EBADF');
    return true;
  });
  assert.equal(out(), '');
});
