/** The one place that turns an error into output for stderr (src/errors.ts defines the errors). */
import type { MeshError } from '../errors.js';

/** Render an error for stderr: one line, an optional hint line, and the stack only when verbose. */
export function formatError(err: MeshError, verbose: boolean): string {
  const lines = [`error: ${err.message}`];
  if (err.hint) lines.push(`  hint: ${err.hint}`);
  if (verbose) {
    const cause = err.cause instanceof Error ? err.cause : err;
    if (cause.stack) lines.push(cause.stack);
  }
  return lines.join('\n') + '\n';
}

/** The error document printed on stdout under -o json|yaml: stable field names (docs/cli.md). */
export interface ErrorDocument {
  error: { message: string; hint?: string; exitCode: number };
}

/** The error as data, for machine formats. */
export function errorDocument(err: MeshError): ErrorDocument {
  return { error: { message: err.message, ...(err.hint ? { hint: err.hint } : {}), exitCode: err.exitCode } };
}

/** Errors whose command already printed its own document on stdout (check's report), so none is added. */
const reported = new WeakSet<object>();

/** Record that `err` is already reported on stdout in the chosen machine format. */
export function markReportedOnStdout(err: unknown): void {
  if (typeof err === 'object' && err !== null) reported.add(err);
}

/**
 * The document the entry point writes on stdout for an error under -o json|yaml, or undefined when
 * none is due: the command printed its own, or the -o value itself was refused.
 */
export async function renderErrorDocument(original: unknown, err: MeshError, format: string | undefined): Promise<string | undefined> {
  if (format !== 'json' && format !== 'yaml') return undefined;
  if (typeof original === 'object' && original !== null && reported.has(original)) return undefined;
  const { OutputFormatError } = await import('./format.js');
  if (original instanceof OutputFormatError) return undefined;
  const { renderData } = await import('./output.js');
  return renderData(errorDocument(err), format);
}
