import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command } from 'commander';
import { addCommands, buildProgram } from '../../src/cli.ts';
import { runMesh } from '../support/cli.ts';

test('a global flag a command cannot honour is refused with exit 2 naming it, never silently ignored', async () => {
  const cases: [string[], RegExp][] = [
    [['version', '--client', '-n', 'shop'], /mesh version does not take -n\/--namespace/],
    [['profile', 'list', '-A'], /mesh profile does not take -A\/--all-namespaces/],
    [['proxy-config', 'cluster', 'frontend', '-f', 'examples/shop', '-A'], /mesh proxy-config does not take -A\/--all-namespaces/],
    [['route', 'show', 'web', '-A'], /mesh route show does not take -A\/--all-namespaces/],
  ];
  for (const [args, re] of cases) {
    const r = await runMesh(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
    assert.equal(r.stdout, '');
  }
});

test('--timeout is a duration in every command that has it, described once per command, and a bare number is exit 2', async () => {
  const program = buildProgram();
  await addCommands(program, '*');
  const found: string[] = [];
  const walk = (cmd: Command, prefix: string): void => {
    for (const sub of cmd.commands) {
      const path = `${prefix}${sub.name()}`;
      for (const o of sub.options.filter((x) => x.long?.endsWith('timeout'))) {
        assert.equal(o.flags.endsWith('<duration>'), true, `mesh ${path} ${o.long} takes a <duration>`);
        if (o.long === '--timeout') found.push(path);
      }
      walk(sub, `${path} `);
    }
  };
  walk(program, '');
  assert.deepEqual(found.sort(), ['check', 'grpc-agent', 'install', 'route canary', 'upgrade']);
  for (const args of [['check', '--timeout', '5'], ['install', '--dry-run', '--timeout', '5'], ['upgrade', '--yes', '--timeout', '5']]) {
    const r = await runMesh(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /--timeout 5: add a unit, e\.g\. 5s or 5m/);
  }
});
