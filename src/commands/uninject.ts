import type { Command } from 'commander';
import { addInputOptions, runInjectCommand, type InputFlags } from './inject.js';

/** `mesh uninject`: remove exactly what `mesh inject` added. Handler: src/commands/inject-run.ts. */
export function define(cmd: Command): void {
  addInputOptions(cmd)
    .addHelpText('after', '\nExamples:\n  mesh uninject -f deploy-injected.yaml > deploy.yaml\n  kubectl get deploy web -o yaml | mesh uninject -f - | kubectl apply -f -')
    .action((opts: InputFlags, command: Command) => runInjectCommand('uninject', opts, command));
}
