import { usageError } from '../errors.js';

/**
 * All interactive prompts live here, so tests replace this one module and CI never blocks.
 * A prompt is shown only when stdin and stdout are TTYs; `--yes` answers yes without asking.
 */
export interface PromptContext {
  yes: boolean;
  interactive: boolean;
}

/**
 * Ask to proceed. Returns true with --yes; throws a usage error (exit 2) when input is not
 * interactive, naming --yes, rather than hanging or assuming consent.
 */
export async function confirm(message: string, ctx: PromptContext): Promise<boolean> {
  if (ctx.yes) return true;
  if (!ctx.interactive) {
    throw usageError(`${message.replace(/\?$/, '')}: confirmation needed but input is not interactive`, 'pass --yes to proceed without a prompt');
  }
  const { default: inquirer } = await import('inquirer');
  const answer = await inquirer.prompt<{ ok: boolean }>([{ type: 'confirm', name: 'ok', message, default: false }]);
  return answer.ok;
}
