import { usageError } from '../errors.js';

/** Output formats every listing command accepts with -o. Commands may accept more (check: junit, sarif). */
export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/**
 * Validate an -o value against the formats a command supports; the error names the allowed ones.
 * Kept apart from output.ts so parsing flags loads no table or YAML code.
 */
export function parseOutputFormat<T extends string>(value: string | undefined, allowed: readonly T[], fallback: T): T {
  if (value === undefined || value === '') return fallback;
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw usageError(`unknown output format "${value}"`, `use one of: ${allowed.join(', ')}`);
}
