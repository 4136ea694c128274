import { Writable } from 'node:stream';
import { makeUi, type Ui } from '../../src/ui/context.ts';

/**
 * A Ui whose stdout and stderr are captured as strings, for handler tests. Non-interactive and
 * colourless unless asked; `yes` answers confirmations (default false).
 */
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
