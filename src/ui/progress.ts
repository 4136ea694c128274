import type { Writable } from 'node:stream';

/** A progress display: animated on a TTY, plain lines otherwise (CI logs), silent when `quiet`. */
export interface Progress {
  /** Replace the current step's text. */
  update(text: string): void;
  /** Finish the current step as done, printing `text` (or the last text). */
  succeed(text?: string): void;
  /** Finish the current step as failed. */
  fail(text?: string): void;
  /** Stop without a final line. */
  stop(): void;
  /** Print other output (e.g. to stdout) without it mixing with the spinner line; the spinner is redrawn below it. */
  above(print: () => void): void;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * Start a progress display on `stream` (stderr). Spinners only when `interactive` (a TTY);
 * otherwise each succeed/fail prints one line and updates print nothing, so logs stay short.
 */
export function startProgress(stream: Writable & { isTTY?: boolean }, text: string, opts: { interactive: boolean; ok?: string; bad?: string }): Progress {
  let current = text;
  const ok = opts.ok ?? '✔';
  const bad = opts.bad ?? '✖';
  if (!opts.interactive) {
    return {
      update(t) { current = t; },
      succeed(t) { stream.write(`${ok} ${t ?? current}\n`); },
      fail(t) { stream.write(`${bad} ${t ?? current}\n`); },
      stop() { /* nothing was drawn */ },
      above(print) { print(); },
    };
  }
  let frame = 0;
  const draw = () => {
    stream.write(`\r\x1b[2K${FRAMES[frame++ % FRAMES.length]} ${current}`);
  };
  draw();
  const timer = setInterval(draw, 80);
  timer.unref();
  const end = (line?: string) => {
    clearInterval(timer);
    stream.write('\r\x1b[2K' + (line ? line + '\n' : ''));
  };
  return {
    update(t) { current = t; },
    succeed(t) { end(`${ok} ${t ?? current}`); },
    fail(t) { end(`${bad} ${t ?? current}`); },
    stop() { end(); },
    above(print) {
      stream.write('\r\x1b[2K');
      print();
      draw();
    },
  };
}
