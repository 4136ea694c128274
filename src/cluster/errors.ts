import { ExitCode, MeshError, TLS_ERROR_CODES, UNREACHABLE_ERRNO, type MeshErrorOptions } from '../errors.js';

/**
 * Telling "the cluster could not be asked" from "the cluster answered no" by the error's type and
 * code, never by its message text (messages change with Node, client-node and the API server).
 */

/** The API server cannot be used from this kubeconfig (e.g. a plain-HTTP server URL). Exit code 3. */
export class ClusterUnreachableError extends MeshError {
  constructor(message: string, opts: Omit<MeshErrorOptions, 'exitCode'> = {}) {
    super(message, { ...opts, exitCode: ExitCode.Cluster });
    this.name = 'ClusterUnreachableError';
  }
}

/** Why a request to the cluster failed, as far as the caller needs to know. */
export type ClusterFailure = 'unreachable' | 'unauthorized' | 'forbidden' | 'not-found';

interface Coded {
  code?: unknown;
  statusCode?: unknown;
  cause?: unknown;
}

/** HTTP status of an API error: `statusCode` (ours), or a numeric `code` (client-node's ApiException). */
export function apiStatus(err: unknown): number | undefined {
  for (const e of causes(err)) {
    if (typeof e.statusCode === 'number') return e.statusCode;
    if (typeof e.code === 'number') return e.code;
  }
  return undefined;
}

/**
 * Classify a failed cluster request by the error's class, errno code or HTTP status, looking
 * through `cause` (MeshErrors wrap the original error). Undefined: some other failure.
 */
export function classifyClusterError(err: unknown): ClusterFailure | undefined {
  for (const e of causes(err)) {
    if (e instanceof ClusterUnreachableError) return 'unreachable';
    if (typeof e.code === 'string' && (UNREACHABLE_ERRNO.has(e.code) || TLS_ERROR_CODES.has(e.code))) return 'unreachable';
  }
  switch (apiStatus(err)) {
    case 401:
      return 'unauthorized';
    case 403:
      return 'forbidden';
    case 404:
      return 'not-found';
    default:
      return undefined;
  }
}

/** `err`, its cause, the cause's cause, ... (bounded, in case of a cycle). */
function causes(err: unknown): Coded[] {
  const out: Coded[] = [];
  for (let e = err, i = 0; typeof e === 'object' && e !== null && i < 8; e = (e as Coded).cause, i++) out.push(e as Coded);
  return out;
}
