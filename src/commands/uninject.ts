import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';
import { addInputOptions } from './inject.js';

/** `mesh uninject`: remove exactly what `mesh inject` added. Handler: src/manifests/inject-run.ts. */
export function define(cmd: Command): void {
  addInputOptions(cmd)
    .addHelpText('after', '\nExamples:\n  mesh uninject -f deploy-injected.yaml > deploy.yaml\n  kubectl get deploy web -o yaml | mesh uninject -f - | kubectl apply -f -')
    .action(async (opts: { filename: string[]; recursive?: boolean; report: string; inPlace?: boolean }, command: Command) => {
      const g = globalsOf(command);
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['yaml', 'json'] as const, 'yaml');
      const { runInject } = await import('../manifests/inject-run.js');
      process.exitCode = await runInject(
        { mode: 'uninject', files: opts.filename, recursive: opts.recursive === true, valuesFiles: [], sets: [], fromCluster: false, output, report: opts.report, inPlace: opts.inPlace === true },
        ui,
      );
    });
}
