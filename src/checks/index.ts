import type { Cluster } from '../cluster/types.js';
import { ExitCode, MeshError } from '../errors.js';
import { VERSION } from '../version.js';
import { preInstallCatalog } from './catalog/index.js';
import { makeLiveContext } from './context.js';
import { PERMISSIONS_CATEGORY } from './install-access.js';
import { runChecks, type RanCheck } from './runner.js';

export { postInstallCatalog, preInstallCatalog } from './catalog/index.js';
export { runChecks, runOne, type RanCheck, type RunChecksOptions } from './runner.js';
export type * from './types.js';

/**
 * The full pre-install catalog (`mesh check --pre`, the same `preInstallCatalog()`) for
 * `mesh install` to call before it changes anything. Never throws for a failing check: `ok` is
 * false when any check failed, and `results` say which and why. A check that could not run (timed
 * out, or its request failed for a reason other than an unreachable API server) comes back as
 * `skip` with its reason kept: it is shown, but it does not block (warnings and skips never do).
 * `version` is the mesh version about to be installed (default: this CLI's).
 */
export async function runPreInstallChecks(cluster: Cluster, opts: { namespace?: string; timeoutMs?: number; version?: string } = {}): Promise<{ ok: boolean; results: RanCheck[] }> {
  const ctx = makeLiveContext(cluster, { version: opts.version ?? VERSION, namespace: opts.namespace });
  const ran = await runChecks(preInstallCatalog(), ctx, undefined, { timeoutMs: opts.timeoutMs ?? 20_000 });
  const results = ran.map((r): RanCheck => {
    const reason = r.result.reason;
    if (r.result.status !== 'fail' || (reason !== 'timeout' && reason !== 'error')) return r;
    const message = `could not run: ${r.result.message}`;
    return { ...r, result: { ...r.result, status: 'skip', message }, outcome: { ...r.outcome, status: 'skip', message } };
  });
  return { ok: results.every((r) => r.result.status !== 'fail'), results };
}

/**
 * Why install must stop after these pre-install results, or undefined when it may go on.
 * Exit codes (docs/install.md): 3 when the API server is unreachable or a permissions check failed
 * (a verb install needs is forbidden; the message names verb and resource); 1 for any other failed
 * check (unsupported Kubernetes, missing cluster DNS, another mesh's injector, ...).
 */
export function preInstallFailure(results: readonly RanCheck[]): MeshError | undefined {
  const unreachable = results.find((r) => r.result.reason === 'unreachable');
  if (unreachable) return new MeshError(unreachable.result.message, { hint: unreachable.result.hint, exitCode: ExitCode.Cluster });
  const failed = results.map((r) => r.result).filter((r) => r.status === 'fail');
  if (failed.length === 0) return undefined;
  const forbidden = failed.filter((r) => r.category === PERMISSIONS_CATEGORY);
  const first = forbidden[0] ?? failed[0]!;
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more failed check${failed.length === 2 ? '' : 's'} above)` : '';
  if (forbidden.length) {
    return new MeshError(`forbidden: ${first.message}${more}`, { hint: first.hint, exitCode: ExitCode.Cluster });
  }
  return new MeshError(`pre-install check failed: ${first.description}: ${first.message}${more}`, {
    hint: `${first.hint ? `${first.hint}; ` : ''}or pass --skip-checks to install anyway`,
    exitCode: ExitCode.Failed,
  });
}
