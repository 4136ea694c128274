import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMesh, runMeshInProcess } from '../support/cli.ts';

/** A loopback port nothing listens on (bound then closed). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test('install, upgrade, uninstall and manifest diff --cluster exit 3 with one line when the API server is unreachable', async () => {
  const port = await deadPort();
  const kc = join(mkdtempSync(join(tmpdir(), 'mesh-kc-')), 'config');
  writeFileSync(kc, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:${port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\nusers:\n- name: u\n  user: {token: t}\ncurrent-context: c\n`);
  // The first through bin/mesh (the exit status of the real process), the rest in-process.
  for (const [i, args] of [['install'], ['install', '--skip-checks'], ['upgrade'], ['uninstall'], ['manifest', 'diff', '--cluster']].entries()) {
    const r = await (i === 0 ? runMesh : runMeshInProcess)(['--kubeconfig', kc, '--yes', ...args]);
    assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /^error: cannot reach the Kubernetes API server: .*ECONNREFUSED/m);
    assert.match(r.stderr, /hint: check --context and --kubeconfig/);
  }
});

test('no kubeconfig at all: exit 3', async () => {
  const r = await runMesh(['install', '--yes']);
  assert.equal(r.code, 3);
  assert.match(r.stderr, /no kubeconfig found/);
});
