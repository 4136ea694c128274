/**
 * Errors the user can cause, and how any error maps to one of them. Imports nothing, so every
 * layer (pki, cluster, manifests, ...) can throw MeshErrors without depending on the UI;
 * src/ui/errors.ts renders them.
 *
 * Exit codes are part of the CLI's contract (documented in README.md):
 *   0 success, 1 a check or operation failed, 2 bad usage or bad input,
 *   3 cluster unreachable or forbidden.
 */

export const ExitCode = {
  Ok: 0,
  Failed: 1,
  Usage: 2,
  Cluster: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export interface MeshErrorOptions {
  /** One line telling the user what to do about it. */
  hint?: string;
  /** Defaults to ExitCode.Failed. */
  exitCode?: ExitCode;
  /** The underlying error, shown only with -v. */
  cause?: unknown;
}

/** An error with a message meant for the user, a hint to fix it and a documented exit code. */
export class MeshError extends Error {
  readonly hint: string | undefined;
  readonly exitCode: ExitCode;
  override readonly cause: unknown;

  constructor(message: string, opts: MeshErrorOptions = {}) {
    super(message);
    this.name = 'MeshError';
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? ExitCode.Failed;
    this.cause = opts.cause;
  }
}

/** Bad flags or arguments (exit 2). */
export function usageError(message: string, hint?: string): MeshError {
  return new MeshError(message, { hint, exitCode: ExitCode.Usage });
}

/** Bad input file or document (exit 2). */
export function inputError(message: string, hint?: string, cause?: unknown): MeshError {
  return new MeshError(message, { hint, exitCode: ExitCode.Usage, cause });
}

/** Network errno codes: the Kubernetes API server could not be reached at all. */
export const UNREACHABLE_ERRNO: ReadonlySet<string> = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN']);

/** TLS verification codes: a server answered, but not one the kubeconfig trusts. */
export const TLS_ERROR_CODES: ReadonlySet<string> = new Set(['DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', 'CERT_HAS_EXPIRED', 'ERR_TLS_CERT_ALTNAME_INVALID']);

interface ErrnoLike {
  /** errno string (ECONNREFUSED) or, from client-node's ApiException, the HTTP status. */
  code?: string | number;
  message?: string;
  statusCode?: number;
  body?: unknown;
}

function asErrno(err: unknown): ErrnoLike {
  return typeof err === 'object' && err !== null ? (err as ErrnoLike) : {};
}

/**
 * Map an arbitrary error to a MeshError, recognising the causes users hit most:
 * a refused or unresolvable API server, TLS trouble, and Kubernetes Status errors.
 */
export function toMeshError(err: unknown): MeshError {
  if (err instanceof MeshError) return err;
  const e = asErrno(err);
  const msg = e.message ?? String(err);
  const code = typeof e.code === 'string' ? e.code : undefined;
  if (code !== undefined && UNREACHABLE_ERRNO.has(code)) {
    return new MeshError(`cannot reach the Kubernetes API server: ${msg}`, {
      hint: 'check --context and --kubeconfig (or $KUBECONFIG), and that the cluster is running',
      exitCode: ExitCode.Cluster,
      cause: err,
    });
  }
  if (code !== undefined && TLS_ERROR_CODES.has(code)) {
    return new MeshError(`TLS error talking to the Kubernetes API server: ${msg}`, {
      hint: 'check the cluster CA and server address in your kubeconfig',
      exitCode: ExitCode.Cluster,
      cause: err,
    });
  }
  switch (code) {
    case 'ENOENT':
      return new MeshError(msg, { hint: 'check the path', exitCode: ExitCode.Usage, cause: err });
    case 'EACCES':
    case 'EPERM':
      return new MeshError(msg, { hint: 'check the file permissions', exitCode: ExitCode.Usage, cause: err });
  }
  const status = e.statusCode ?? (typeof e.code === 'number' ? e.code : undefined);
  if (status === 401 || status === 403) {
    return new MeshError(`the Kubernetes API server refused the request: ${statusMessage(e) ?? msg}`, {
      hint: status === 401 ? 'your credentials were rejected: log in again or pick another --context' : 'ask for the RBAC permission named above, or use another --context',
      exitCode: ExitCode.Cluster,
      cause: err,
    });
  }
  return new MeshError(msg, { exitCode: ExitCode.Failed, cause: err });
}

function statusMessage(e: ErrnoLike): string | undefined {
  const b = e.body;
  if (typeof b === 'object' && b !== null && typeof (b as { message?: unknown }).message === 'string') {
    return (b as { message: string }).message;
  }
  if (typeof b === 'string') {
    try {
      const parsed = JSON.parse(b) as { message?: unknown };
      if (typeof parsed.message === 'string') return parsed.message;
    } catch {
      /* not JSON: fall through */
    }
  }
  return undefined;
}
