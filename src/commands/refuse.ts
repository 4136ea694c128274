import type { Command } from 'commander';
import { usageError } from '../errors.js';

/** The global flags a command may refuse, by commander attribute name, as users spell them. */
const SPELLING = { namespace: '-n/--namespace', allNamespaces: '-A/--all-namespaces', output: '-o/--output' } as const;

/** A global flag a command may refuse. */
export type RefusableFlag = keyof typeof SPELLING;

/** True when the user gave global flag `key` (on the command line or through the environment), not a default. */
export function givenGlobal(command: Command, key: RefusableFlag): boolean {
  let root = command;
  while (root.parent) root = root.parent;
  const source = root.getOptionValueSource(key);
  return source === 'cli' || source === 'env';
}

/**
 * Refuse a global flag the command cannot honour (exit 2) instead of silently ignoring it: `why`
 * says what the command works on, `hint` what to do instead. docs/cli.md lists these rules.
 */
export function refuseGlobals(command: Command, name: string, refused: Partial<Record<RefusableFlag, { why: string; hint: string }>>): void {
  for (const [key, r] of Object.entries(refused) as [RefusableFlag, { why: string; hint: string }][]) {
    if (givenGlobal(command, key)) throw usageError(`${name} does not take ${SPELLING[key]}: ${r.why}`, r.hint);
  }
}
