import { ExitCode, MeshError } from '../errors.js';

/**
 * Why the CA refused to issue, so the control plane can map it to a gRPC/HTTP status
 * (UNAUTHENTICATED, PERMISSION_DENIED, INVALID_ARGUMENT, FAILED_PRECONDITION).
 */
export type IssuanceReason = 'unauthenticated' | 'permission-denied' | 'invalid-argument' | 'failed-precondition';

/** A refusal to issue a certificate. Messages never contain tokens or key material. */
export class IssuanceError extends MeshError {
  readonly reason: IssuanceReason;
  constructor(reason: IssuanceReason, message: string, hint?: string, cause?: unknown) {
    super(message, { hint, cause, exitCode: reason === 'invalid-argument' ? ExitCode.Usage : ExitCode.Failed });
    this.name = 'IssuanceError';
    this.reason = reason;
  }
}
