import { AsyncLocalStorage } from 'node:async_hooks';
import type { Writable } from 'node:stream';

/** The streams a run of the CLI reads and writes: the process's own unless {@link withCliStreams} says otherwise. */
export interface CliStreams {
  out: Writable & { isTTY?: boolean };
  err: Writable & { isTTY?: boolean };
  /** What `-f -` and `--values -` read (default process.stdin). */
  in?: NodeJS.ReadableStream;
}

// Set only while the CLI runs in-process (tests run many commands in one process, far cheaper than
// a process each); async-local, so output of concurrent work cannot cross over.
const store = new AsyncLocalStorage<CliStreams>();

/** Run `fn` with every Ui made inside it, the CLI's own messages and stdin reads using `streams`. */
export function withCliStreams<T>(streams: CliStreams, fn: () => T): T {
  return store.run(streams, fn);
}

/** The output streams of this run of the CLI: those of {@link withCliStreams}, else the process's. */
export function currentStreams(): CliStreams {
  return store.getStore() ?? { out: process.stdout, err: process.stderr };
}

/** The stdin of this run of the CLI (see {@link withCliStreams}). */
export function currentStdin(): NodeJS.ReadableStream {
  return store.getStore()?.in ?? process.stdin;
}
