import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMesh, runMeshInProcess } from '../support/cli.ts';
import { findSubcommand } from '../../src/cli.ts';
import { VERSION } from '../../src/version.ts';

// The entry point's own behaviour (help, exit codes, usage errors, pipes) runs the built bin/mesh;
// cases about what a command prints run the CLI in-process (no process start).

test('mesh with no arguments prints help and exits 0', async () => {
  const r = await runMesh([]);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Usage: mesh/);
});

test('an unknown command exits 2 with a did-you-mean hint and no stack trace', async () => {
  const r = await runMesh(['versoin']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown command 'versoin'/);
  assert.match(r.stderr, /Did you mean version\?/);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
});

test('an unknown flag exits 2 and suggests the closest flag', async () => {
  const r = await runMesh(['version', '--clinet']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /unknown option '--clinet'/);
  assert.match(r.stderr, /Did you mean --client\?/);
});

test('a bad -o value exits 2 naming the allowed formats', async () => {
  const r = await runMesh(['version', '--client', '-o', 'xml']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /^error: unknown output format "xml"\n {2}hint: use one of: table, json, yaml\n$/);
});

test('mesh version --client prints the package version, as a table, json and yaml', async () => {
  const t = await runMesh(['version', '--client']);
  assert.equal(t.code, 0);
  assert.equal(t.stdout, `Client version: ${VERSION}\n`);
  const j = await runMeshInProcess(['version', '--client', '-o', 'json']);
  assert.equal(JSON.parse(j.stdout).client.version, VERSION);
  const y = await runMeshInProcess(['-o', 'yaml', 'version', '--client']);
  assert.match(y.stdout, new RegExp(`^client:\\n  version: ${VERSION.replace(/\./g, '\\.')}\\n`));
});

test('mesh version without a kubeconfig prints the client, notes why the server part is missing, exits 3', async () => {
  const r = await runMesh(['version']);
  assert.equal(r.code, 3);
  assert.match(r.stdout, /Client version: /);
  assert.match(r.stderr, /note: server versions unavailable: no kubeconfig found/);
  assert.match(r.stderr, /mesh version --client/);
});

test('mesh version against a refusing API server: exit 3, the hint names --context, -o json stays valid JSON', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-kc-'));
  const kc = join(dir, 'config');
  // Port 9 (discard) on loopback is closed: the connection is refused at once.
  writeFileSync(kc, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:9"}\ncontexts:\n- name: ctx\n  context: {cluster: c, user: u}\ncurrent-context: ctx\nusers:\n- name: u\n  user: {token: t}\n`);
  const r = await runMeshInProcess(['version', '-o', 'json', '--kubeconfig', kc]);
  assert.equal(r.code, 3);
  const doc = JSON.parse(r.stdout);
  assert.match(doc.note, /cannot reach the Kubernetes API server/);
  assert.match(r.stderr, /--context/);
  const bad = await runMeshInProcess(['version', '--kubeconfig', kc, '--context', 'nope']);
  assert.equal(bad.code, 3);
  assert.match(bad.stderr, /context "nope" is not in the kubeconfig/);
  assert.match(bad.stderr, /known contexts: ctx/);
});

test('-v shows a stack trace for errors; without it none is shown', async () => {
  const quiet = await runMeshInProcess(['version', '--kubeconfig', '/nonexistent/config']);
  assert.doesNotMatch(quiet.stderr, /\n\s+at /);
  const loud = await runMeshInProcess(['-v', 'completion', 'tcsh']);
  assert.equal(loud.code, 2);
  assert.match(loud.stderr, /error: unsupported shell "tcsh"/);
  assert.match(loud.stderr, /\n\s+at /);
});

test('findSubcommand skips global flags and their values', () => {
  assert.equal(findSubcommand(['-n', 'prod', '--context', 'x', 'install', '--dry-run']), 'install');
  assert.equal(findSubcommand(['--output=json', '-A', 'stat']), 'stat');
  assert.equal(findSubcommand(['-o', 'json']), undefined);
  assert.equal(findSubcommand(['--', 'inject']), 'inject');
});

test('a reader that closes the pipe early (mesh --help | head) ends mesh quietly with exit 0', async () => {
  const { execa } = await import('execa');
  const { MESH_BIN } = await import('../support/cli.ts');
  // The reader closes its end before mesh writes: every write then fails with EPIPE.
  const r = await execa('bash', ['-c', `set -o pipefail; "${process.execPath}" "${MESH_BIN}" --help | (exec 0<&-; true)`], { reject: false, env: { HOME: '/nonexistent-home' } });
  assert.equal(r.exitCode, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /EPIPE|\n\s+at /);
});

test('under -o json|yaml an error is an error document on stdout, the one-line error on stderr, the exit code unchanged', async () => {
  const table = await runMesh(['proxy-status']);
  assert.equal(table.code, 3);
  assert.equal(table.stdout, '', 'no document without -o json|yaml');
  const j = await runMesh(['proxy-status', '-o', 'json']);
  assert.equal(j.code, 3);
  assert.deepEqual(JSON.parse(j.stdout), { error: { message: 'no kubeconfig found', hint: 'pass --kubeconfig, set $KUBECONFIG, or create ~/.kube/config', exitCode: 3 } });
  assert.match(j.stderr, /^error: no kubeconfig found\n {2}hint: /);
  const y = await runMesh(['--output=yaml', 'proxy-status']);
  assert.equal(y.code, 3);
  assert.match(y.stdout, /^error:\n {2}message: no kubeconfig found\n/);
  const flag = await runMesh(['stat', '--nonsense', '-ojson']);
  assert.equal(flag.code, 2);
  assert.match(JSON.parse(flag.stdout).error.message, /unknown option '--nonsense'/);
});

test('a format the command does not take: exit 2 naming the formats, nothing on stdout', async () => {
  const r = await runMesh(['manifest', 'generate', '-o', 'wide']);
  assert.equal(r.code, 2);
  assert.equal(r.stdout, '');
  assert.match(r.stderr, /^error: this command does not print -o wide\n {2}hint: use one of: yaml, json, name\n$/);
  const none = await runMesh(['completion', 'bash', '-o', 'json']);
  assert.equal(none.code, 2);
  assert.equal(none.stdout, '');
  assert.match(none.stderr, /takes no -o/);
});
