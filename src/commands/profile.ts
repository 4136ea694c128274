import type { Command } from 'commander';
import { refuseGlobals } from './flags.js';
import { globalsOf, makeUi } from '../ui/context.js';

/** Profiles are built into the CLI: no namespace to look in. */
const NO_CLUSTER = { why: 'profiles are built into the CLI, not read from a namespace', hint: 'drop it' };

/** `mesh profile list|show NAME`. */
export function define(cmd: Command): void {
  cmd
    .command('list')
    .description('List the built-in values profiles')
    .addHelpText('after', '\nExamples:\n  mesh profile list\n  mesh profile list -o json')
    .action(async (_opts: unknown, command: Command) => {
      const g = globalsOf(command);
      refuseGlobals(command, 'mesh profile', { namespace: NO_CLUSTER, allNamespaces: NO_CLUSTER });
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['table', 'wide', 'json', 'yaml'] as const, 'table');
      const { runProfileList } = await import('../install/profile.js');
      process.exitCode = runProfileList(output, ui);
    });
  cmd
    .command('show')
    .description("Print a profile's full resolved values (what install uses before -f and --set)")
    .argument('<name>', 'profile name')
    .option('--diff', 'print only the values that differ from the default profile')
    .addHelpText('after', '\nExamples:\n  mesh profile show ha\n  mesh profile show demo --diff -o json')
    .action(async (name: string, opts: { diff?: boolean }, command: Command) => {
      const g = globalsOf(command);
      refuseGlobals(command, 'mesh profile', { namespace: NO_CLUSTER, allNamespaces: NO_CLUSTER });
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['yaml', 'json'] as const, 'yaml');
      const { runProfileShow } = await import('../install/profile.js');
      process.exitCode = runProfileShow(name, { output, diff: opts.diff === true }, ui);
    });
}
