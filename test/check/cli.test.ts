import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMesh, runMeshInProcess as mesh } from '../support/cli.ts';
import { parseXml } from './xml.ts';

// Most cases run the CLI in-process (same parsing, handlers and error rendering; no process start);
// a few run bin/mesh to prove the real process exits with the same codes and keeps stdout clean.
const FORMATS = ['table', 'json', 'junit', 'sarif'];
const fx = (name: string): string => `test/fixtures/check/${name}`;

function assertOneDocument(format: string, stdout: string): void {
  if (format === 'json' || format === 'sarif') JSON.parse(stdout);
  if (format === 'junit') parseXml(stdout);
}

test('exit codes are the same whatever the output format (errors, warnings, clean, --fail-on)', async () => {
  const cases: [string[], number][] = [
    [['-f', fx('MSH0003')], 1],
    [['-f', fx('MSH0010')], 0],
    [['-f', fx('MSH0010'), '--fail-on', 'warning'], 1],
    [['-f', fx('MSH0011'), '--fail-on', 'warning'], 0],
    [['-f', 'examples/shop'], 0],
  ];
  await Promise.all(
    cases.flatMap(([args, want]) =>
      FORMATS.map(async (format) => {
        const r = await mesh(['check', ...args, '-o', format]);
        assert.equal(r.code, want, `${args.join(' ')} -o ${format}: ${r.stderr}`);
        assertOneDocument(format, r.stdout);
      }),
    ),
  );
  for (const [args, want] of [cases[0]!, cases[2]!]) {
    const r = await runMesh(['check', ...args, '-o', 'json']);
    assert.equal(r.code, want, `bin/mesh check ${args.join(' ')} -o json: ${r.stderr}`);
    assertOneDocument('json', r.stdout);
  }
});

test('-o json is exactly one JSON document with findings that name file and line', async () => {
  const r = await mesh(['check', '-f', fx('MSH0004'), '-o', 'json']);
  assert.equal(r.code, 1);
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.mode, 'files');
  assert.equal(doc.exitCode, 1);
  assert.equal(doc.findings.length, 2);
  assert.deepEqual(
    doc.findings.map((f: { code: string; file: string; line: number; resource: object }) => [f.code, f.file, f.line, f.resource]),
    [
      ['MSH0004', 'test/fixtures/check/MSH0004/route.yaml', 1, { kind: 'HTTPRoute', namespace: 'shop', name: 'web' }],
      ['MSH0004', 'test/fixtures/check/MSH0004/route.yaml', 1, { kind: 'HTTPRoute', namespace: 'shop', name: 'web' }],
    ],
  );
  assert.equal(r.stderr, '');
});

test('bad input exits 2 in every format; -o json still prints one document, the error goes to stderr', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-check-'));
  writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: Service\nmetadata: {name: x\n');
  for (const format of FORMATS) {
    const r = await mesh(['check', '-f', dir, '-o', format]);
    assert.equal(r.code, 2, format);
    assertOneDocument(format, r.stdout);
    assert.match(r.stderr, /error: .*bad\.yaml.*line \d+/);
  }
  const r = await mesh(['check', '-f', join(dir, 'missing.yaml'), '-o', 'json']);
  assert.equal(r.code, 2);
  assert.match(JSON.parse(r.stdout).error.message, /missing\.yaml/);
});

test('bad flags exit 2 with a hint', async () => {
  for (const args of [['--fail-on', 'info'], ['-o', 'xml'], ['--pre', '-f', 'x'], ['--suppress', 'nonsense', '-f', fx('clean')], ['--wait', '5']]) {
    const r = await mesh(['check', ...args]);
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /hint:/);
  }
  for (const format of ['json', 'yaml', 'junit', 'sarif']) {
    const r = await mesh(['check', '--fail-on', 'info', '-o', format]);
    assert.equal(r.code, 2, format);
    assertOneDocument(format, r.stdout);
    if (format === 'json') assert.match(JSON.parse(r.stdout).error.message, /--fail-on "info"/);
    // The report carries the error; the entry point adds no second (error) document.
    if (format === 'yaml') assert.match((parse(r.stdout) as { error: { message: string } }).error.message, /--fail-on "info"/);
  }
});

test('--suppress and --output-threshold on the command line', async () => {
  const base = ['check', '-f', fx('MSH0012'), '-o', 'json'];
  const all = JSON.parse((await mesh(base)).stdout);
  assert.equal(all.findings.length, 2);
  const sup = JSON.parse((await mesh([...base, '--suppress', 'MSH0012=Deployment/shop/a*'])).stdout);
  assert.equal(sup.findings.length, 0);
  assert.equal(sup.summary.suppressed, 2);
  const hidden = await mesh([...base, '--output-threshold', 'error']);
  const doc = JSON.parse(hidden.stdout);
  assert.equal(doc.findings.length, 0);
  assert.equal(doc.summary.hidden, 2);
  assert.equal(hidden.code, 0);
  const table = await mesh(['check', '-f', fx('MSH0012')]);
  assert.match(table.stdout, /‼ MSH0012 Deployment shop\/api \(test\/fixtures\/check\/MSH0012\/worker\.yaml:1\): annotation mesh\.dev\/injection/);
  assert.match(table.stdout, /did you mean mesh\.dev\/inject\?/);
});

test('-R descends into subdirectories; without it only the top directory is read', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-r-'));
  const { mkdirSync, cpSync } = await import('node:fs');
  mkdirSync(join(dir, 'sub'));
  cpSync(fx('MSH0005'), join(dir, 'sub'), { recursive: true });
  writeFileSync(join(dir, 'ns.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n');
  const withR = await mesh(['check', '-f', dir, '-R', '-o', 'json']);
  assert.equal(withR.code, 1);
  assert.deepEqual(JSON.parse(withR.stdout).findings.map((f: { code: string }) => f.code), ['MSH0005']);
  const without = await mesh(['check', '-f', dir, '-o', 'json']);
  assert.equal(without.code, 0);
  assert.deepEqual(JSON.parse(without.stdout).findings, []);
});

test('stdin: mesh check -f - reads manifests from a pipe', async () => {
  const r = await runMesh(['check', '-f', '-', '-o', 'json'], { input: 'apiVersion: v1\nkind: Service\nmetadata: {name: db, namespace: a}\nspec:\n  ports: [{port: 5432}]\n' });
  const doc = JSON.parse(r.stdout);
  assert.equal(doc.findings[0].code, 'MSH0010');
  assert.equal(doc.findings[0].line, 1);
});

test('no cluster: exit 3 in every format, json says why, and the reason is on stderr', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-kc-'));
  const kc = join(dir, 'config');
  writeFileSync(kc, ['apiVersion: v1', 'kind: Config', 'clusters: [{name: c, cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}}]', 'users: [{name: u, user: {token: t}}]', 'contexts: [{name: x, context: {cluster: c, user: u}}]', 'current-context: x'].join('\n'));
  for (const format of FORMATS) {
    const r = await mesh(['check', '--kubeconfig', kc, '--timeout', '5s', '-o', format]);
    assert.equal(r.code, 3, `${format}: ${r.stderr}`);
    assertOneDocument(format, r.stdout);
    assert.match(r.stderr, /^error: cannot reach the Kubernetes API server: .*\(the other \d+ checks were not run\)$/m);
  }
  const none = await runMesh(['check', '-o', 'json']);
  assert.equal(none.code, 3);
  assert.match(JSON.parse(none.stdout).error.message, /no kubeconfig/);
});

test('mesh check --help and mesh check -f load no Kubernetes client, gRPC, protobuf, prompt or x509 code', async () => {
  const { runMeshTraced, loadedAny } = await import('../support/cli.ts');
  for (const args of [['check', '--help'], ['check', '-f', 'examples/shop']]) {
    const r = await runMeshTraced(args);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.modules.some((u) => u.endsWith('/dist/cli.js')));
    assert.equal(loadedAny(r.modules), undefined, `${args.join(' ')} loaded a heavy module`);
  }
});

test('our own manifests pass our analyzers: mesh manifest generate and mesh inject of examples/shop give no findings', async () => {
  const manifests = await mesh(['manifest', 'generate']);
  assert.equal(manifests.code, 0, manifests.stderr);
  const injected = await mesh(['inject', '-f', 'examples/shop']);
  assert.equal(injected.code, 0, injected.stderr);
  for (const [what, yaml] of [['install manifests', manifests.stdout], ['injected examples/shop', injected.stdout]]) {
    const r = await mesh(['check', '-f', '-', '-o', 'json', '--output-threshold', 'warning'], { input: yaml });
    const doc = JSON.parse(r.stdout);
    assert.deepEqual(doc.findings, [], `${what}: ${JSON.stringify(doc.findings)}`);
    assert.equal(r.code, 0);
    assert.ok(Number(/^(\d+) object/.exec(doc.checks[0].message)![1]) > 5, 'the documents were read');
  }
});
