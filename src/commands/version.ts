import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';

export interface VersionOptions {
  client: boolean;
  output: 'table' | 'json' | 'yaml';
  kubeconfig?: string;
  context?: string;
}

/** `mesh version [--client]`. The handler (src/status/version.ts) loads cluster code only without --client. */
export function define(cmd: Command): void {
  cmd
    .option('--client', 'print only the client version (never contacts a cluster)')
    .addHelpText('after', '\nExamples:\n  mesh version --client\n  mesh version -o json --context prod')
    .action(async (opts: { client?: boolean }, command: Command) => {
      const g = globalsOf(command);
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['table', 'json', 'yaml'] as const, 'table');
      const { runVersion } = await import('../status/version.js');
      process.exitCode = await runVersion({ client: opts.client === true, output, kubeconfig: g.kubeconfig, context: g.context }, ui);
    });
}
