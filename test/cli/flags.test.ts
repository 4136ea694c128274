import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Command, Option } from 'commander';
import { addCommands, buildProgram } from '../../src/cli.ts';
import { GLOBAL_FLAGS, INPUT_FLAGS, VALUES_FLAGS } from '../../src/commands/flags.ts';

/** Every command and subcommand with its path, e.g. "manifest generate". */
async function allCommands(): Promise<{ path: string; cmd: Command }[]> {
  const program = buildProgram();
  await addCommands(program, '*');
  const out: { path: string; cmd: Command }[] = [];
  const walk = (cmd: Command, prefix: string): void => {
    for (const sub of cmd.commands) {
      const path = `${prefix}${sub.name()}`;
      out.push({ path, cmd: sub });
      walk(sub, `${path} `);
    }
  };
  walk(program, '');
  return out;
}

const describe = (o: Option): string => `${o.flags} — ${o.description}`;

/**
 * Flags spelled differently on purpose. The controller's --values is one file (the webhook's
 * values, files source only); it can become the shared repeatable flag once the controller's
 * options take a list.
 */
const EXCEPTIONS = new Set(['controller --values']);

test('no command re-declares a global flag (-n, -A, -o, --context, --kubeconfig, ...): they are defined once, on the root', async () => {
  const globals = Object.values(GLOBAL_FLAGS).map((make) => make());
  const names = new Set(globals.flatMap((o) => [o.short, o.long]).filter((n): n is string => n !== undefined));
  for (const { path, cmd } of await allCommands()) {
    for (const o of cmd.options) {
      for (const n of [o.short, o.long]) assert.ok(n === undefined || !names.has(n), `mesh ${path} declares ${n} itself; it is a global flag`);
    }
  }
});

test('shared flags have the same spelling and description on every command that has them', async () => {
  const shared = [...Object.values(INPUT_FLAGS), ...Object.values(VALUES_FLAGS)].map((make) => make());
  // A long name may have several accepted spellings (--values with and without -f).
  const byLong = new Map<string, Option[]>();
  for (const o of shared) byLong.set(o.long!, [...(byLong.get(o.long!) ?? []), o]);
  const byShort = new Map(shared.filter((o) => o.short).map((o) => [o.short!, shared.filter((s) => s.short === o.short)] as const));
  const seen = new Map<string, string[]>();
  for (const { path, cmd } of await allCommands()) {
    for (const o of cmd.options) {
      if (EXCEPTIONS.has(`${path} ${o.long}`)) continue;
      const spellings = byLong.get(o.long!);
      if (spellings) {
        assert.ok(
          spellings.some((s) => s.flags === o.flags && s.description === o.description),
          `mesh ${path}: "${describe(o)}" differs from the shared ${spellings.map(describe).join(' | ')} (src/commands/flags.ts)`,
        );
        seen.set(o.long!, [...(seen.get(o.long!) ?? []), path]);
      }
      // A shared short letter never means something else (-f is --filename or --values, -R is --recursive).
      const shorts = o.short ? byShort.get(o.short) : undefined;
      if (shorts) assert.ok(shorts.some((s) => s.long === o.long), `mesh ${path}: ${o.short} means ${o.long}, elsewhere ${shorts.map((s) => s.long).join(' or ')}`);
    }
  }
  // Where each set is used: a command that stops using the shared flag must show up here.
  assert.deepEqual(seen.get('--filename'), ['check', 'inject', 'uninject', 'route canary', 'route set', 'route promote', 'route rollback', 'dashboard', 'authz check', 'authz list', 'proxy-config']);
  assert.deepEqual(seen.get('--recursive'), ['check', 'inject', 'uninject', 'route canary', 'route set', 'route promote', 'route rollback']);
  const valuesUsers = ['install', 'upgrade', 'manifest generate', 'manifest images', 'manifest diff', 'inject'];
  assert.deepEqual(seen.get('--values'), valuesUsers);
  assert.deepEqual(seen.get('--set'), valuesUsers);
  assert.deepEqual(seen.get('--profile'), valuesUsers);
});

test('inject takes --values and --set as install does: repeatable, applied in order', async () => {
  const commands = await allCommands();
  const opt = (path: string, long: string): Option => {
    const o = commands.find((c) => c.path === path)!.cmd.options.find((x) => x.long === long);
    assert.ok(o, `mesh ${path} has ${long}`);
    return o;
  };
  for (const path of ['inject', 'install']) {
    for (const long of ['--values', '--set']) {
      const o = opt(path, long);
      const parse = o.parseArg as (value: string, previous: string[] | undefined) => string[];
      assert.deepEqual(parse('b', parse('a', undefined)), ['a', 'b'], `mesh ${path} ${long} collects every value in order`);
    }
  }
  assert.equal(opt('install', '--values').short, '-f');
  assert.equal(opt('inject', '--filename').short, '-f', "inject's -f stays its input");
});
