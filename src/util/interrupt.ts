/**
 * Run `fn` with an AbortSignal fired by the first of `signals` (default Ctrl-C), so a long
 * operation stops at its next wait in a state it can report, instead of dying mid-way; a second
 * Ctrl-C gets Node's default behaviour (exit). The listeners are removed when `fn` settles. Pass
 * no signals to run `fn` with a signal that never fires (e.g. a one-shot `mesh stat`, which
 * Ctrl-C should simply end). For commands/ and the orchestration they call, never for pure code.
 */
export async function withInterrupt<T>(fn: (signal: AbortSignal) => Promise<T>, signals: readonly NodeJS.Signals[] = ['SIGINT']): Promise<T> {
  const ac = new AbortController();
  const onSignal = (): void => ac.abort();
  for (const s of signals) process.once(s, onSignal);
  try {
    return await fn(ac.signal);
  } finally {
    for (const s of signals) process.off(s, onSignal);
  }
}
