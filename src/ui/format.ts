import { ExitCode, MeshError } from '../errors.js';

/** Output formats every listing command accepts with -o. Commands may accept more (check: junit, sarif). */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Every -o value some command takes: a value outside this list is unknown everywhere. */
const KNOWN_FORMATS = new Set(['table', 'wide', 'json', 'yaml', 'name', 'junit', 'sarif']);

/**
 * The usage error of an -o value a command does not take. Its own class so the entry point knows
 * not to answer it with an error document in that same format (docs/cli.md, "Output").
 */
export class OutputFormatError extends MeshError {
  constructor(message: string, hint: string) {
    super(message, { hint, exitCode: ExitCode.Usage });
    this.name = 'OutputFormatError';
  }
}

/**
 * Validate an -o value against the formats a command supports; the error (exit 2) names the
 * allowed ones. An empty `allowed` means the command prints no data and refuses every -o.
 * Kept apart from output.ts so parsing flags loads no table or YAML code.
 */
export function parseOutputFormat<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === '') return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  if (allowed.length === 0) throw new OutputFormatError(`this command prints no data and takes no -o (got -o ${value})`, 'drop -o');
  const hint = `use one of: ${allowed.join(', ')}`;
  if (!KNOWN_FORMATS.has(value)) throw new OutputFormatError(`unknown output format "${value}"`, hint);
  throw new OutputFormatError(`this command does not print -o ${value}`, hint);
}

/** Refuse any -o on a command that prints no data (controller, proxy-init, ...): exit 2. */
export function refuseOutputFormat(value: string | undefined): void {
  if (value !== undefined && value !== '') parseOutputFormat<string>(value, [], '');
}
