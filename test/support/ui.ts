import { Writable } from 'node:stream';
import { makeUi, type Ui } from '../../src/ui/context.ts';

/** What {@link captureUi} returns: the Ui and what was written to it so far. */
export interface CapturedUi {
  ui: Ui;
  out: () => string;
  err: () => string;
  /**
   * Resolves once everything written to `stream` (default stderr) so far matches `re`: at once if
   * it already does, else on the write that makes it match. For long-running handlers (the
   * controller) that report progress as log lines.
   */
  waitFor(re: RegExp, stream?: 'out' | 'err'): Promise<void>;
}

/**
 * A Ui whose stdout and stderr are captured as strings, for handler tests. Non-interactive and
 * colourless unless asked; `yes` answers confirmations (default false).
 */
export function captureUi(opts: { interactive?: boolean; yes?: boolean } = {}): CapturedUi {
  const text = { out: '', err: '' };
  const waiters = new Set<{ re: RegExp; stream: 'out' | 'err'; resolve: () => void }>();
  const settle = () => {
    for (const w of waiters) {
      if (!w.re.test(text[w.stream])) continue;
      waiters.delete(w);
      w.resolve();
    }
  };
  const sink = (stream: 'out' | 'err') =>
    new Writable({
      // Strings arrive as written (no Buffer split inside a multi-byte character).
      decodeStrings: false,
      write(chunk: string | Buffer, _enc, cb) {
        text[stream] += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
        settle();
        cb();
      },
    });
  const ui = makeUi({ color: false, verbose: false, yes: opts.yes ?? false }, { out: sink('out'), err: sink('err'), stdinTTY: opts.interactive ?? false });
  return {
    ui: opts.interactive ? { ...ui, interactive: true } : ui,
    out: () => text.out,
    err: () => text.err,
    waitFor: (re, stream = 'err') =>
      new Promise<void>((resolve) => {
        waiters.add({ re, stream, resolve });
        settle();
      }),
  };
}
