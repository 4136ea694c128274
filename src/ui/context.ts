import type { Writable } from 'node:stream';
import { currentStreams } from '../util/cli-streams.js';
import { colorEnabled, makeColor, type ChalkInstance } from './color.js';

/** The kubectl-style flags every command accepts (declared once on the root program). */
export interface GlobalOptions {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  allNamespaces: boolean;
  /** Raw -o value; each command validates it against the formats it supports. */
  output?: string;
  color: boolean;
  verbose: boolean;
  yes: boolean;
}

/**
 * What a command handler needs to talk to the user. Handlers write data to `out` and
 * diagnostics to `err`, so `mesh inject -f a.yaml | kubectl apply -f -` works.
 */
export interface Ui {
  out: Writable;
  err: Writable & { isTTY?: boolean };
  /** Colour for stderr/stdout text; a no-op instance when colour is off. */
  color: ChalkInstance;
  verbose: boolean;
  /** True when both stdin and stderr are TTYs: spinners and prompts are allowed. */
  interactive: boolean;
  yes: boolean;
  /** Print a diagnostic line only with -v. */
  debug(msg: string): void;
}

/** Read the global options from any commander command (they live on the root). */
export function globalsOf(command: { optsWithGlobals(): Record<string, unknown> }): GlobalOptions {
  const o = command.optsWithGlobals();
  return {
    kubeconfig: o.kubeconfig as string | undefined,
    context: o.context as string | undefined,
    namespace: o.namespace as string | undefined,
    allNamespaces: o.allNamespaces === true,
    output: o.output as string | undefined,
    color: o.color !== false,
    verbose: o.verbose === true,
    yes: o.yes === true,
  };
}

/** Build the Ui for a run of the CLI from the global options and the process's streams. */
export function makeUi(g: Pick<GlobalOptions, 'color' | 'verbose' | 'yes'>, streams: { out?: Writable & { isTTY?: boolean }; err?: Writable & { isTTY?: boolean }; stdinTTY?: boolean } = {}): Ui {
  const out = streams.out ?? currentStreams().out;
  const err = streams.err ?? currentStreams().err;
  const color = makeColor(colorEnabled(out, g.color) && colorEnabled(err, g.color));
  const interactive = (streams.stdinTTY ?? process.stdin.isTTY === true) && err.isTTY === true;
  return {
    out,
    err,
    color,
    verbose: g.verbose,
    interactive,
    yes: g.yes,
    debug(msg) {
      if (g.verbose) err.write(color.dim(msg) + '\n');
    },
  };
}
