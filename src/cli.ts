import { Command, CommanderError } from 'commander';
import { GLOBAL_FLAGS, globalValueFlags } from './commands/flags.js';
import { COMMANDS } from './commands/index.js';
import { ExitCode, MeshError, toMeshError } from './errors.js';
import { formatError } from './ui/errors.js';
import { currentStreams, withCliStreams, type CliStreams } from './util/cli-streams.js';

/** Root options that take a value: the subcommand finder must skip their values. */
const VALUE_FLAGS = globalValueFlags();

/**
 * Build the root program with the kubectl-style global flags. Subcommands are added as bare names;
 * `main` fills in only the one being run.
 */
export function buildProgram(streams?: CliStreams): Command {
  const program = new Command('mesh')
    .description('Install, check and operate the mesh service mesh')
    .usage('[global options] <command> [options]')
    .showSuggestionAfterError(true)
    .showHelpAfterError(false)
    .exitOverride()
    .configureHelp({ sortSubcommands: false, showGlobalOptions: true });
  // Subcommands inherit this, so help and usage errors go where the rest of the output goes.
  if (streams) program.configureOutput({ writeOut: (s) => void streams.out.write(s), writeErr: (s) => void streams.err.write(s) });
  for (const make of Object.values(GLOBAL_FLAGS)) program.addOption(make());
  program.addHelpText('after', '\nRun "mesh <command> --help" for a command\'s flags. Exit codes: 0 ok, 1 failed, 2 bad usage or input, 3 cluster unreachable or forbidden.');
  return program;
}

/** The first positional token of argv (the subcommand), skipping global flags and their values. */
export function findSubcommand(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') return args[i + 1];
    if (a.startsWith('-')) {
      if (!a.includes('=') && VALUE_FLAGS.has(a)) i++;
      continue;
    }
    return a;
  }
  return undefined;
}

/**
 * Add every top-level command to `program`. Only `wanted` (or all, when `wanted` is '*') gets its
 * module loaded and its flags defined; the rest are listed by name for help and suggestions.
 */
export async function addCommands(program: Command, wanted: string | undefined): Promise<void> {
  for (const entry of COMMANDS) {
    const cmd = program.command(entry.name, { hidden: entry.hidden === true }).description(entry.summary);
    if (wanted === '*' || wanted === entry.name) (await entry.load()).define(cmd);
  }
}

/**
 * Entry point used by bin/mesh. Sets process.exitCode; never calls process.exit itself. With
 * `streams` (tests running the CLI in-process) everything is written there instead of to the
 * process's stdout and stderr.
 */
export async function main(argv: string[], streams?: CliStreams): Promise<void> {
  if (streams) return withCliStreams(streams, () => run(argv, streams));
  quietOnClosedPipe(process.stdout);
  return run(argv);
}

async function run(argv: string[], streams?: CliStreams): Promise<void> {
  const args = argv.slice(2);
  const verbose = args.includes('-v') || args.includes('--verbose');
  try {
    const program = buildProgram(streams);
    let wanted = findSubcommand(args);
    if (wanted === 'help') wanted = findSubcommand(args.slice(args.indexOf('help') + 1));
    if (wanted === 'completion') wanted = '*';
    await addCommands(program, wanted);
    if (args.length === 0) {
      program.outputHelp();
      return;
    }
    await program.parseAsync(argv);
  } catch (err) {
    await writeErrorDocument(err, outputFlag(args));
    process.exitCode = handleError(err, verbose);
  }
}

/** The value of the global -o/--output flag in argv (the last one wins, as commander reads it). */
export function outputFlag(args: readonly string[]): string | undefined {
  let value: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') break;
    if (a === '-o' || a === '--output') value = args[++i];
    else if (a.startsWith('--output=')) value = a.slice('--output='.length);
    else if (a.startsWith('-o') && !a.startsWith('--')) value = a.slice(2).replace(/^=/, '');
  }
  return value;
}

/**
 * Under -o json|yaml an error is also data: one error document on stdout (docs/cli.md, "Output"),
 * so a script reading stdout always gets a parseable answer. The one-line error still goes to stderr.
 */
async function writeErrorDocument(err: unknown, format: string | undefined): Promise<void> {
  if (format !== 'json' && format !== 'yaml') return;
  let me: MeshError;
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version' || err.code === 'commander.executeSubCommandAsync') return;
    me = new MeshError(err.message.replace(/^error: /, '').split('\n')[0]!, { exitCode: ExitCode.Usage, hint: 'run "mesh --help" or "mesh <command> --help" for usage' });
  } else {
    me = toMeshError(err);
  }
  const { renderErrorDocument } = await import('./ui/errors.js');
  const doc = await renderErrorDocument(err, me, format);
  if (doc) currentStreams().out.write(doc);
}

/**
 * `mesh ... | head` closes stdout early: that is the reader's choice, not a failure. Stop quietly
 * with exit 0 instead of an unhandled EPIPE stack trace (the way kubectl and git behave).
 */
function quietOnClosedPipe(stream: NodeJS.WriteStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exitCode = ExitCode.Ok;
    // The entry point is the one place allowed to end the process.
    process.exit();
  });
}

/** Print an error the one way the CLI prints errors and return the exit code for it. */
export function handleError(err: unknown, verbose: boolean, write: (s: string) => void = (s) => void currentStreams().err.write(s)): number {
  if (err instanceof CommanderError) {
    // Commander has already printed its message (with any did-you-mean suggestion).
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.help' || err.code === 'commander.version') return ExitCode.Ok;
    if (err.code === 'commander.executeSubCommandAsync') return err.exitCode;
    write('  hint: run "mesh --help" or "mesh <command> --help" for usage\n');
    return ExitCode.Usage;
  }
  const me: MeshError = toMeshError(err);
  write(formatError(me, verbose));
  return me.exitCode;
}
