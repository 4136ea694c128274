import { usageError } from '../errors.js';

/**
 * All interactive prompts live here, so tests replace this one module and CI never blocks.
 * A prompt is shown only when stdin and stdout are TTYs; `--yes` answers yes without asking.
 */
export interface PromptContext {
  yes: boolean;
  interactive: boolean;
}

/** The hint every refusal to proceed without a prompt carries, so CI logs say the same thing. */
const YES_HINT = 'add --yes to proceed without a prompt (as in CI), or run it at a terminal to be asked';

/**
 * Ask to proceed. Returns true with --yes; throws a usage error (exit 2) when input is not
 * interactive, naming --yes, rather than hanging or assuming consent.
 */
export async function confirm(message: string, ctx: PromptContext): Promise<boolean> {
  if (ctx.yes) return true;
  requireConsent(message.replace(/\?$/, ''), ctx);
  const { default: inquirer } = await import('inquirer');
  const answer = await inquirer.prompt<{ ok: boolean }>([{ type: 'confirm', name: 'ok', message, default: false }]);
  return answer.ok;
}

/**
 * The gate a mutating command passes before it touches the cluster: with --yes or at a terminal
 * (where {@link confirm} will ask) it returns; otherwise it refuses with exit 2 and says to add
 * --yes. A pipe or CI job without --yes must never delete or change a cluster by default.
 */
export function requireConsent(what: string, ctx: PromptContext): void {
  if (ctx.yes || ctx.interactive) return;
  throw usageError(`${what}: confirmation needed but input is not a terminal`, YES_HINT);
}
