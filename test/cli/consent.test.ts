import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMesh } from '../support/cli.ts';
import { requireConsent } from '../../src/ui/prompts.ts';

/** A kubeconfig whose API server refuses connections: a command that got past the gate exits 3. */
function refusingKubeconfig(): string {
  const kc = join(mkdtempSync(join(tmpdir(), 'mesh-kc-')), 'config');
  writeFileSync(kc, `apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {server: "https://127.0.0.1:9"}\ncontexts:\n- name: c\n  context: {cluster: c, user: u}\ncurrent-context: c\nusers:\n- name: u\n  user: {token: t}\n`);
  return kc;
}

test('mutating commands with stdin not a terminal and no --yes refuse with exit 2 and name --yes, before touching the cluster', async () => {
  const kc = refusingKubeconfig();
  for (const args of [['uninstall'], ['uninstall', '--purge'], ['install'], ['upgrade'], ['upgrade', '--rollback']]) {
    const r = await runMesh(['--kubeconfig', kc, ...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /confirmation needed but input is not a terminal/);
    assert.match(r.stderr, /hint: add --yes/);
    assert.doesNotMatch(r.stderr, /ECONNREFUSED/, 'refused before connecting');
  }
});

test('with --yes (or --dry-run, which changes nothing) the same commands go on to the cluster', async () => {
  const kc = refusingKubeconfig();
  for (const args of [['uninstall', '--yes'], ['uninstall', '--dry-run'], ['install', '-y'], ['upgrade', '--yes']]) {
    const r = await runMesh(['--kubeconfig', kc, ...args]);
    assert.equal(r.code, 3, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /cannot reach the Kubernetes API server/);
  }
});

test('requireConsent passes at a terminal (the prompt asks there) and with --yes', () => {
  assert.doesNotThrow(() => requireConsent('x', { yes: false, interactive: true }));
  assert.doesNotThrow(() => requireConsent('x', { yes: true, interactive: false }));
  assert.throws(() => requireConsent('mesh uninstall', { yes: false, interactive: false }), (e: { exitCode: number }) => e.exitCode === 2);
});
