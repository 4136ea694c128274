import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { execa } from 'execa';
import { parse } from 'yaml';
import { MESH_BIN, ROOT } from '../support/cli.ts';

interface Step {
  id?: string;
  name?: string;
  if?: string;
  uses?: string;
  run?: string;
  env?: Record<string, string>;
  with?: Record<string, string>;
}

const action = parse(readFileSync(resolve(ROOT, 'action.yml'), 'utf8')) as { runs: { using: string; steps: Step[] } };

/**
 * A small stand-in for the Actions runner: runs the action's bash steps in order with `${{ }}`
 * expressions of the kinds action.yml uses (inputs, github.action_path, runner.temp, step
 * outputs, `a == 'b'`, `a != 'b'`). The build step is skipped: the tests run on the built CLI.
 */
async function runAction(inputs: Record<string, string>): Promise<{ outputs: Record<string, Record<string, string>>; failed: boolean; log: string }> {
  const temp = mkdtempSync(join(tmpdir(), 'mesh-action-'));
  const outputs: Record<string, Record<string, string>> = {};
  const value = (path: string): string => {
    const [head, ...rest] = path.split('.');
    if (head === 'inputs') return inputs[rest[0]!] ?? '';
    if (head === 'github' && rest[0] === 'action_path') return ROOT.replace(/\/$/, '');
    if (head === 'runner' && rest[0] === 'temp') return temp;
    if (head === 'steps') return outputs[rest[0]!]?.[rest[2]!] ?? '';
    throw new Error(`expression ${path} not supported by the test runner`);
  };
  const expr = (e: string): string => {
    const cmp = /^(\S+) (==|!=) '([^']*)'$/.exec(e.trim());
    if (cmp) return String((value(cmp[1]!) === cmp[3]) === (cmp[2] === '=='));
    return value(e.trim());
  };
  const sub = (s: string) => s.replace(/\$\{\{(.*?)\}\}/g, (_, e: string) => expr(e));
  let log = '';
  for (const step of action.runs.steps) {
    if (step.uses || step.id === 'build') continue;
    if (step.if && expr(step.if) !== 'true') continue;
    const out = join(temp, `out-${step.id ?? 'x'}`);
    writeFileSync(out, '');
    const env = Object.fromEntries(Object.entries(step.env ?? {}).map(([k, v]) => [k, sub(v)]));
    const r = await execa('bash', ['-e', '-c', step.run!], { cwd: ROOT, env: { ...env, GITHUB_OUTPUT: out, PATH: process.env.PATH ?? '', HOME: '/nonexistent-home' }, extendEnv: false, reject: false });
    log += r.stdout + r.stderr;
    outputs[step.id ?? ''] = Object.fromEntries(readFileSync(out, 'utf8').split('\n').filter(Boolean).map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]));
    if (r.exitCode !== 0) return { outputs, failed: true, log };
  }
  return { outputs, failed: false, log };
}

test('action.yml is a composite action that injects, checks with -o sarif and uploads the SARIF', () => {
  assert.equal(action.runs.using, 'composite');
  const runs = action.runs.steps.map((s) => s.run ?? '').join('\n');
  assert.match(runs, /"\$MESH" "\$\{args\[@\]\}"/);
  assert.match(runs, /check -f "\$MANIFESTS" -R -o sarif/);
  const upload = action.runs.steps.find((s) => s.uses?.startsWith('github/codeql-action/upload-sarif'));
  assert.ok(upload, 'a SARIF upload step');
  assert.match(upload.with?.sarif_file ?? '', /steps\.check\.outputs\.sarif/);
});

test('the action on examples/shop: injected output, a SARIF 2.1.0 report, exit code 0, the job passes', async () => {
  const r = await runAction({ manifests: 'examples/shop', inject: 'true', 'kube-version': '1.30', values: '', 'fail-on': 'error', 'upload-sarif': 'true' });
  assert.equal(r.failed, false, r.log);
  assert.match(readFileSync(r.outputs.inject!.injected!, 'utf8'), /name: mesh-proxy/);
  const sarif = JSON.parse(readFileSync(r.outputs.check!.sarif!, 'utf8')) as { version: string };
  assert.equal(sarif.version, '2.1.0');
  assert.equal(r.outputs.check!['exit-code'], '0');
});

test('the action fails the job when a finding reaches --fail-on, after writing the SARIF', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-action-bad-'));
  // An AuthorizationPolicy selecting nothing is a finding (docs/checks.md).
  writeFileSync(join(dir, 'policy.yaml'), 'apiVersion: mesh.dev/v1alpha1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n  selector: {matchLabels: {app: nothing-has-this}}\n  action: ALLOW\n  rules: [{from: [{principals: ["spiffe://cluster.local/ns/shop/sa/x"]}]}]\n');
  const r = await runAction({ manifests: dir, inject: 'false', 'fail-on': 'warning', 'upload-sarif': 'false' });
  assert.equal(r.failed, true, r.log);
  assert.notEqual(r.outputs.check!['exit-code'], '0');
  assert.ok(JSON.parse(readFileSync(r.outputs.check!.sarif!, 'utf8')).runs[0].results.length > 0);
});

test('the GitLab CI snippet in docs/ci.md runs as written (mesh inject, mesh check -f with SARIF and JUnit)', async () => {
  const doc = readFileSync(resolve(ROOT, 'docs/ci.md'), 'utf8');
  const block = /## GitLab CI[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)![1]!;
  const job = (parse(block) as { mesh: { before_script: string[]; script: string[]; variables: Record<string, string>; artifacts: { paths: string[] } } }).mesh;
  assert.ok(job.script.some((l) => l.startsWith('mesh inject ')) && job.script.some((l) => / -o sarif > mesh\.sarif/.test(l)));
  const cwd = mkdtempSync(join(tmpdir(), 'mesh-gitlab-'));
  // The image's /app/bin/mesh is this checkout's bin/mesh here.
  const script = [...job.before_script.map((l) => l.replace('/app/bin/mesh', MESH_BIN)), ...job.script].join('\n');
  const r = await execa('sh', ['-e', '-c', script], { cwd, env: { MANIFESTS: resolve(ROOT, 'examples/shop'), PATH: `${resolve(process.execPath, '..')}:/usr/bin:/bin`, HOME: '/nonexistent-home' }, extendEnv: false, reject: false });
  assert.equal(r.exitCode, 0, r.stderr);
  for (const f of job.artifacts.paths) assert.ok(readFileSync(join(cwd, f), 'utf8').length > 0, f);
  assert.equal(JSON.parse(readFileSync(join(cwd, 'mesh.sarif'), 'utf8')).version, '2.1.0');
});
