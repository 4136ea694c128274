import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { MESH_BIN, runMesh } from '../support/cli.ts';
import { startApiServer } from '../support/kube.ts';

/** Complete `line` (the last word is the one being typed) with the bash script; `mesh` runs the built CLI. */
async function bashComplete(script: string, line: string[], env: Record<string, string> = {}): Promise<string[]> {
  const words = line.map((w) => `'${w}'`).join(' ');
  const r = await execa('bash', ['-c', `mesh() { '${process.execPath}' '${MESH_BIN}' "$@"; }\n${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${line.length - 1}; _mesh; printf '%s\\n' "\${COMPREPLY[@]}"`], {
    env: { HOME: '/nonexistent-home', PATH: process.env.PATH ?? '', ...env },
    extendEnv: false,
  });
  return r.stdout.split('\n').filter(Boolean);
}

test('bash completes flag values offline: profiles, each command\'s -o formats, proxy-config sections, shells', async () => {
  const { stdout: script } = await runMesh(['completion', 'bash']);
  assert.deepEqual(await bashComplete(script, ['mesh', 'install', '--profile', '']), ['default', 'minimal', 'demo', 'ha']);
  assert.deepEqual(await bashComplete(script, ['mesh', 'check', '-o', '']), ['table', 'json', 'yaml', 'junit', 'sarif']);
  assert.deepEqual(await bashComplete(script, ['mesh', 'version', '-o', '']), ['table', 'json', 'yaml']);
  assert.deepEqual(await bashComplete(script, ['mesh', 'inject', '-o', '']), ['yaml', 'json']);
  assert.deepEqual(await bashComplete(script, ['mesh', 'stat', '--output', 'w']), ['wide']);
  assert.deepEqual(await bashComplete(script, ['mesh', 'proxy-config', 'l']), ['listener', 'log']);
  assert.deepEqual(await bashComplete(script, ['mesh', 'completion', 'p']), ['powershell']);
  assert.deepEqual(await bashComplete(script, ['mesh', 'inject', '--native-sidecar', '']), ['auto', 'on', 'off']);
});

test('bash completes namespaces, pods and Services from the cluster when one answers, and nothing (quickly) when none does', async () => {
  const { stdout: script } = await runMesh(['completion', 'bash']);
  const cluster = await startApiServer({
    seed: [
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } },
      { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-1', namespace: 'shop' }, spec: { containers: [{ name: 'app', image: 'nginx' }] } },
      { apiVersion: 'v1', kind: 'Service', metadata: { name: 'catalog', namespace: 'shop' }, spec: { ports: [{ port: 80 }] } },
    ],
  });
  try {
    const env = { KUBECONFIG: cluster.kubeconfigPath };
    assert.ok((await bashComplete(script, ['mesh', 'stat', '-n', 'sh'], env)).includes('shop'));
    assert.ok((await bashComplete(script, ['mesh', 'check', '--mesh-namespace', ''], env)).includes('shop'));
    assert.deepEqual(await bashComplete(script, ['mesh', '-n', 'shop', 'proxy-config', 'cluster', 'w'], env), ['web-1']);
    assert.deepEqual(await bashComplete(script, ['mesh', '-n', 'shop', 'route', 'show', 'c'], env), ['catalog']);
  } finally {
    await cluster.stop();
  }
  const started = Date.now();
  assert.deepEqual(await bashComplete(script, ['mesh', '-n', '']), []);
  assert.ok(Date.now() - started < 15_000);
});

test('powershell: a native argument completer with the same tables', async () => {
  const r = await runMesh(['completion', 'powershell']);
  assert.equal(r.code, 0);
  assert.match(r.stdout, /Register-ArgumentCompleter -Native -CommandName mesh/);
  assert.match(r.stdout, /'install\|--profile' = @\('default', 'minimal', 'demo', 'ha'\)/);
  assert.match(r.stdout, /'proxy-config' = @\('cluster', 'listener', 'route', 'endpoint', 'secret', 'all', 'diff', 'log', '@pods'\)/);
  assert.doesNotMatch(r.stdout, /__complete'/, 'the hidden helper is not offered');
});
