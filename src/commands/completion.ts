import type { Command } from 'commander';
import { usageError } from '../errors.js';
import { globalsOf } from '../ui/context.js';
import { refuseOutputFormat } from '../ui/format.js';
import { CHECK_OUTPUT_FORMATS } from '../checks/options.js';
import { PROFILES } from '../manifests/values.js';
import { SECTIONS } from '../status/proxy-config.js';
import { completionScript, dynamic, SHELLS, type CompletionNode, type CompletionValues, type Shell } from '../ui/completion.js';
import { currentStreams } from '../util/cli-streams.js';

const NAMESPACES = [dynamic('namespaces')];
const KINDS = ['deploy', 'sts', 'ds', 'pod', 'svc', 'ns'];

/** What a flag's value completes to, by long name; `-o` per command below. */
const FLAG_VALUES: Record<string, CompletionValues> = {
  '--namespace': NAMESPACES,
  '--mesh-namespace': NAMESPACES,
  '--output': ['table', 'json', 'yaml'],
  '--profile': PROFILES.map((p) => p.name),
  '--native-sidecar': ['auto', 'on', 'off'],
  '--report': ['text', 'json'],
  '--fail-on': ['warning', 'error'],
  '--output-threshold': ['info', 'warning', 'error'],
  '--from': KINDS,
  '--to': KINDS,
};

/** The `-o` formats of each command (docs/cli.md, "Output"); the table family elsewhere. */
const OBJECTS = ['table', 'json', 'yaml', 'name'];
const MANIFESTS = ['yaml', 'json'];
const WIDE = ['table', 'wide', 'json', 'yaml'];
const OUTPUT_BY_COMMAND: Record<string, CompletionValues> = {
  install: OBJECTS,
  upgrade: OBJECTS,
  uninstall: OBJECTS,
  'manifest generate': [...MANIFESTS, 'name'],
  'profile list': WIDE,
  'profile show': MANIFESTS,
  inject: MANIFESTS,
  uninject: MANIFESTS,
  check: CHECK_OUTPUT_FORMATS,
  stat: WIDE,
  edges: WIDE,
  'proxy-status': WIDE,
};

/** What positional arguments complete to, by command path. */
const ARG_VALUES: Record<string, CompletionValues> = {
  'proxy-config': [...SECTIONS, 'all', 'diff', 'log', dynamic('pods')],
  'proxy-status': [dynamic('pods')],
  stat: KINDS,
  edges: KINDS,
  completion: SHELLS,
  'route canary': [dynamic('services')],
  'route set': [dynamic('services')],
  'route show': [dynamic('services')],
  'route promote': [dynamic('services')],
  'route rollback': [dynamic('services')],
  'route status': [dynamic('services')],
};

/** Read commander's tree (the CLI loads every command's flags before `completion` runs). */
export function toNode(cmd: Command, path = ''): CompletionNode {
  const node: CompletionNode = {
    name: cmd.name(),
    description: cmd.description(),
    options: cmd.options.map((o) => {
      const values = o.long ? FLAG_VALUES[o.long] : undefined;
      return { flags: [o.long, o.short].filter((f): f is string => typeof f === 'string'), description: o.description, ...(values ? { values } : {}) };
    }),
    // Hidden helpers (__complete) are for the scripts, not for users to complete.
    subcommands: cmd.commands.filter((c) => c.name() !== 'help' && !c.name().startsWith('__')).map((c) => toNode(c, path ? `${path} ${c.name()}` : c.name())),
  };
  // -o is global (declared on the root); a command with its own formats completes those.
  const formats = OUTPUT_BY_COMMAND[path];
  if (formats) node.options.push({ flags: ['--output', '-o'], description: `output format: ${formats.join('|')}`, values: formats });
  const args = ARG_VALUES[path];
  if (args) node.args = args;
  return node;
}

/** `mesh completion SHELL`: print the completion script. */
export function define(cmd: Command): void {
  cmd
    .argument('<shell>', `one of ${SHELLS.join(', ')}`)
    .addHelpText(
      'after',
      '\nFlag values (profiles, -o formats, proxy-config sections) complete offline; namespaces, pods and Services come from the cluster when it answers within 2s.\n\nExamples:\n  source <(mesh completion bash)\n  mesh completion zsh > "${fpath[1]}/_mesh"\n  mesh completion fish | source\n  mesh completion powershell | Out-String | Invoke-Expression',
    )
    .action((shell: string, _opts: unknown, command: Command) => {
      refuseOutputFormat(globalsOf(command).output);
      if (!(SHELLS as readonly string[]).includes(shell)) throw usageError(`unsupported shell "${shell}"`, `use one of: ${SHELLS.join(', ')}`);
      let root = command;
      while (root.parent) root = root.parent;
      currentStreams().out.write(completionScript(shell as Shell, toNode(root)));
    });
}
