import { ExitCode, MeshError } from '../errors.js';

/**
 * A write lost an optimistic-concurrency race (HTTP 409: the object changed since it was read, or
 * was created meanwhile). Nothing was written; the caller re-reads and decides, never retries blind.
 */
export class ConflictError extends MeshError {
  constructor(readonly kind: string, readonly objectName: string, readonly namespace?: string, detail?: string) {
    super(`${kind} ${namespace ? `${namespace}/` : ''}${objectName} was changed by someone else since it was read${detail ? ` (${detail})` : ''}; nothing was written`, {
      hint: `look at the change with "kubectl get ${kind.toLowerCase()} ${objectName}${namespace ? ` -n ${namespace}` : ''} -o yaml", then run the command again`,
      exitCode: ExitCode.Failed,
    });
    this.name = 'ConflictError';
  }
}
