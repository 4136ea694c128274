import type { Cluster } from '../../cluster/types.js';
import { VERSION } from '../../version.js';
import { preInstallCatalog } from './catalog.js';
import { makeLiveContext } from './context.js';
import { runChecks, type RanCheck } from './runner.js';

export { postInstallCatalog, preInstallCatalog } from './catalog.js';
export { runChecks, runOne, type RanCheck, type RunChecksOptions } from './runner.js';
export type * from './types.js';

/**
 * The full pre-install catalog (`mesh check --pre`) for `mesh install` to call before it changes
 * anything. Never throws for a failing check: `ok` is false when any check failed (warnings and
 * skips do not block), and `results` say which and why.
 */
export async function runPreInstallChecks(cluster: Cluster, opts: { namespace?: string; timeoutMs?: number } = {}): Promise<{ ok: boolean; results: RanCheck[] }> {
  const ctx = makeLiveContext(cluster, { version: VERSION, namespace: opts.namespace });
  const results = await runChecks(preInstallCatalog(), ctx, undefined, { timeoutMs: opts.timeoutMs ?? 20_000 });
  return { ok: results.every((r) => r.result.status !== 'fail'), results };
}
