import { Chalk, type ChalkInstance } from 'chalk';

/**
 * Colour only on a TTY, never with NO_COLOR (any non-empty value, per no-color.org) or --no-color.
 * FORCE_COLOR=1 turns it on where a TTY is missing (CI logs that render ANSI).
 */
export function colorEnabled(stream: { isTTY?: boolean }, flag: boolean | undefined, env: NodeJS.ProcessEnv = process.env): boolean {
  if (flag === false) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  if (env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}

/** A chalk instance that colours only when `enabled`. */
export function makeColor(enabled: boolean): ChalkInstance {
  return new Chalk({ level: enabled ? 1 : 0 });
}

export type { ChalkInstance };
