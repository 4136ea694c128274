/**
 * What every check category of the catalog shares: the check type bound to the live context and
 * shorthands for its outcomes.
 */
import type { LiveContext } from '../context.js';
import type { Check, CheckOutcome } from '../types.js';

/** A check of the live catalog. */
export type C = Check<LiveContext>;
/** A plain JSON object read from a Kubernetes object. */
export type Obj = Record<string, unknown>;

/** Namespaces the analyzers and injection checks leave alone. */
export const SYSTEM_NAMESPACES = new Set(['kube-system', 'kube-public', 'kube-node-lease']);

/** Outcome shorthands. */
export const pass = (message: string, details?: string[]): CheckOutcome => ({ status: 'pass', message, details });
export const fail = (message: string, hint: string, details?: string[]): CheckOutcome => ({ status: 'fail', message, hint, details });
export const warn = (message: string, hint: string, details?: string[]): CheckOutcome => ({ status: 'warn', message, hint, details });
export const skip = (message: string, hint?: string): CheckOutcome => ({ status: 'skip', message, hint });

