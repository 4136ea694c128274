import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { globalsOf } from '../ui/context.js';
import { refuseOutputFormat } from '../ui/format.js';
import { completionScript, SHELLS, type CompletionNode, type Shell } from '../ui/completion.js';

/** Read commander's tree (the CLI loads every command's flags before `completion` runs). */
export function toNode(cmd: Command): CompletionNode {
  return {
    name: cmd.name(),
    description: cmd.description(),
    options: cmd.options.map((o) => ({ flags: [o.long, o.short].filter((f): f is string => typeof f === 'string'), description: o.description })),
    subcommands: cmd.commands.filter((c) => c.name() !== 'help').map(toNode),
  };
}

export function define(cmd: Command): void {
  cmd
    .argument('<shell>', `one of ${SHELLS.join(', ')}`)
    .addHelpText('after', '\nExamples:\n  source <(mesh completion bash)\n  mesh completion zsh > "${fpath[1]}/_mesh"\n  mesh completion fish | source')
    .action((shell: string, _opts: unknown, command: Command) => {
      refuseOutputFormat(globalsOf(command).output);
      if (!(SHELLS as readonly string[]).includes(shell)) throw usageError(`unsupported shell "${shell}"`, `use one of: ${SHELLS.join(', ')}`);
      let root = command;
      while (root.parent) root = root.parent;
      process.stdout.write(completionScript(shell as Shell, toNode(root)));
    });
}
