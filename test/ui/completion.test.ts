import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execa } from 'execa';
import { runMeshInProcess } from '../support/cli.ts';

async function bashComplete(script: string, line: string[]): Promise<string[]> {
  const words = line.map((w) => `'${w}'`).join(' ');
  const r = await execa('bash', ['-c', `${script}\nCOMP_WORDS=(${words}); COMP_CWORD=${line.length - 1}; _mesh; printf '%s\\n' "\${COMPREPLY[@]}"`]);
  return r.stdout.split('\n').filter(Boolean);
}

test('bash completion offers commands, then that command\'s flags', async () => {
  const { stdout: script, code } = await runMeshInProcess(['completion', 'bash']);
  assert.equal(code, 0);
  const top = await bashComplete(script, ['mesh', '']);
  assert.ok(top.includes('version') && top.includes('completion'), top.join(' '));
  const ver = await bashComplete(script, ['mesh', '-n', 'x', 'version', '--cl']);
  assert.deepEqual(ver, ['--client']);
});

test('zsh and fish scripts are generated and parse in their shells where installed', async () => {
  const zsh = await runMeshInProcess(['completion', 'zsh']);
  assert.equal(zsh.code, 0);
  assert.match(zsh.stdout, /^#compdef mesh/);
  const fish = await runMeshInProcess(['completion', 'fish']);
  assert.match(fish.stdout, /complete -c mesh -n __fish_use_subcommand -a version/);
  for (const [shell, script] of [['zsh', zsh.stdout], ['fish', fish.stdout]] as const) {
    const has = await execa('sh', ['-c', `command -v ${shell}`], { reject: false });
    if (has.exitCode !== 0) continue;
    const check = await execa(shell, ['-n', '-c', script], { reject: false });
    assert.equal(check.exitCode, 0, `${shell} -n: ${check.stderr}`);
  }
});
