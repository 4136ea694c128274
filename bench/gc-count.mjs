// Garbage collections of this process, counted for the xds.scale bench's child processes
// (BENCH_XDS_GC_LOG: each one on stderr, on the wall clock, tagged with `who`).
import { performance, PerformanceObserver } from 'node:perf_hooks';

/** Start counting; the returned object's fields grow as collections happen (reset them freely). */
export function countGc(who) {
  const gc = { minor: 0, minorMs: 0, major: 0, majorMs: 0 };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      // Kinds (perf_hooks constants): 1 scavenge, 4 mark-compact, 8 incremental marking, 16 weak callbacks.
      const kind = e.detail?.kind;
      if (kind === 1) {
        gc.minor++;
        gc.minorMs += e.duration;
      } else {
        if (kind === 4) gc.major++;
        gc.majorMs += e.duration;
      }
      if (process.env.BENCH_XDS_GC_LOG) process.stderr.write(`gc ${who} kind ${kind} at ${(performance.timeOrigin + e.startTime).toFixed(1)} ${e.duration.toFixed(1)} ms\n`);
    }
  }).observe({ entryTypes: ['gc'] });
  return gc;
}
