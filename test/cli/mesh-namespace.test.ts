import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { addCommands, buildProgram } from '../../src/cli.ts';
import { MESH_FLAGS } from '../../src/commands/flags.ts';
import { runMesh } from '../support/cli.ts';

async function commandsWith(long: string): Promise<{ path: string; description: string }[]> {
  const program = buildProgram();
  await addCommands(program, '*');
  const out: { path: string; description: string }[] = [];
  const walk = (cmd: Command, prefix: string): void => {
    for (const sub of cmd.commands) {
      const path = `${prefix}${sub.name()}`;
      const o = sub.options.find((x) => x.long === long);
      if (o) out.push({ path, description: `${o.flags} ${o.description}` });
      walk(sub, `${path} `);
    }
  };
  walk(program, '');
  return out;
}

test('the mesh namespace is one flag, --mesh-namespace, spelled and described the same in every command that needs it', async () => {
  const shared = MESH_FLAGS.meshNamespace();
  const users = await commandsWith('--mesh-namespace');
  // The controller runs inside the mesh namespace: its default is $POD_NAMESPACE, so it says so.
  const cli = users.filter((u) => u.path !== 'controller');
  assert.deepEqual(cli.map((u) => u.path).sort(), ['authz check', 'authz list', 'check', 'dashboard', 'inject', 'install', 'manifest diff', 'manifest generate', 'proxy-config', 'proxy-status', 'uninstall', 'upgrade']);
  for (const u of cli) assert.equal(u.description, `${shared.flags} ${shared.description}`, `mesh ${u.path}`);
});

test('-n is never the mesh namespace: install, upgrade, uninstall and manifest refuse it with exit 2 and name --mesh-namespace', async () => {
  for (const args of [['upgrade', '-n', 'mesh-system'], ['uninstall', '-n', 'other'], ['install', '--dry-run', '-n', 'x'], ['-n', 'x', 'manifest', 'generate'], ['uninstall', '-A']]) {
    const r = await runMesh([...args, '--yes']);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /does not take (-n\/--namespace|-A\/--all-namespaces): the only namespace it uses is the mesh's own/);
    assert.match(r.stderr, /hint: use --mesh-namespace NS/);
  }
});

test('install and manifest take --mesh-namespace as --set namespace= (which keeps working); a disagreement is exit 2', async () => {
  const flag = await runMesh(['manifest', 'generate', '--mesh-namespace', 'platform-mesh']);
  const set = await runMesh(['manifest', 'generate', '--set', 'namespace=platform-mesh']);
  assert.equal(flag.code, 0, flag.stderr);
  assert.match(flag.stdout, /^kind: Namespace\nmetadata:\n {2}name: platform-mesh$/m);
  assert.equal(flag.stdout, set.stdout);
  const both = await runMesh(['manifest', 'generate', '--mesh-namespace', 'a', '--set', 'namespace=b']);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /--mesh-namespace a and --set namespace=b disagree/);
});

test('check refuses -n (exit 2) instead of ignoring it: with -f each document keeps its namespace, live it checks the whole mesh', async () => {
  const files = await runMesh(['check', '-f', 'examples/shop', '-R', '-n', 'shop']);
  assert.equal(files.code, 2, files.stderr);
  assert.match(files.stderr, /mesh check -f does not take -n\/--namespace/);
  const json = await runMesh(['check', '-f', 'examples/shop', '-n', 'shop', '-o', 'json']);
  assert.equal(json.code, 2);
  assert.doesNotThrow(() => JSON.parse(json.stdout), 'machine output stays one document');
  const live = await runMesh(['-n', 'mesh-system', 'check']);
  assert.equal(live.code, 2, live.stderr);
  assert.match(live.stderr, /hint: .*--mesh-namespace NS/);
});
