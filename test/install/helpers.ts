import { readFileSync } from 'node:fs';
import type { InstallOptions } from '../../src/install/install.ts';
import type { UpgradeOptions } from '../../src/install/upgrade.ts';

export { captureUi } from '../support/ui.ts';

export const CA = {
  certPem: readFileSync(new URL('../fixtures/ca/root.crt', import.meta.url), 'utf8'),
  keyPem: readFileSync(new URL('../fixtures/ca/root.key', import.meta.url), 'utf8'),
};

export function installOpts(o: Partial<InstallOptions> = {}): InstallOptions {
  return { skipChecks: false, dryRun: false, wait: true, timeoutMs: 5000, forceConflicts: false, output: 'table', ...o };
}

export function upgradeOpts(o: Partial<UpgradeOptions> = {}): UpgradeOptions {
  return { namespace: 'mesh-system', rollback: false, force: false, resetValues: false, wait: true, timeoutMs: 5000, forceConflicts: false, output: 'table', ...o };
}
