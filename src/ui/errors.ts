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
