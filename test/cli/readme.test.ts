import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { resolve, sep } from 'node:path';
import { execa } from 'execa';
import { ROOT } from '../support/cli.ts';

test('the README links no file outside the repository, and every file it links exists', () => {
  const readme = readFileSync(resolve(ROOT, 'README.md'), 'utf8');
  const targets = [...readme.matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!).filter((t) => !/^(https?:|mailto:|#)/.test(t));
  assert.ok(targets.length > 0);
  for (const t of targets) {
    const file = resolve(ROOT, t.split('#')[0]!);
    assert.ok(file.startsWith(ROOT.endsWith(sep) ? ROOT : ROOT + sep), `${t} points outside the repository`);
    assert.ok(existsSync(file), `${t} does not exist`);
  }
  assert.doesNotMatch(readme, /\]\((\/|file:|\.\.\/)/, 'no absolute, file: or ../ links');
});

test('after the README set-up, the next command the demo suggests works as written (mesh is not on PATH yet)', async () => {
  // PATH without any mesh: only node's directory, as on a fresh machine before npm link.
  const env = { PATH: `${resolve(process.execPath, '..')}:/usr/bin:/bin`, HOME: '/nonexistent-home' };
  const demo = await execa(process.execPath, ['scripts/demo.mjs'], { cwd: ROOT, env, extendEnv: false });
  const m = /^next, on a cluster: (\S+) install/m.exec(demo.stdout);
  assert.ok(m, demo.stdout);
  const r = await execa('sh', ['-c', `${m[1]} install --help`], { cwd: ROOT, env, extendEnv: false, reject: false });
  assert.equal(r.exitCode, 0, `"${m[1]} install --help": ${r.stderr}`);
  assert.match(r.stdout, /Usage: mesh install/);
});
