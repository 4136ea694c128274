import { readFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { makeUi, type Ui } from '../../src/ui/context.ts';
import type { InstallOptions } from '../../src/install/install.ts';
import type { UpgradeOptions } from '../../src/install/upgrade.ts';

/** A non-interactive Ui whose stdout and stderr are captured as strings. */
export function captureUi(opts: { interactive?: boolean; yes?: boolean } = {}): { ui: Ui; out: () => string; err: () => string } {
  let out = '';
  let err = '';
  const sink = (f: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, cb) {
        f(String(chunk));
        cb();
      },
    });
  const ui = makeUi({ color: false, verbose: false, yes: opts.yes ?? false }, { out: sink((s) => (out += s)), err: sink((s) => (err += s)), stdinTTY: opts.interactive ?? false });
  return { ui: opts.interactive ? { ...ui, interactive: true } : ui, out: () => out, err: () => err };
}

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
