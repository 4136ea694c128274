// One worker of scripts/test.mjs: runs the compiled test files it is given in this one process,
// one after another, each as a suite of its own (named by its path) so a file's top-level
// before/after hooks stay its own. A file is imported only when its turn comes (its suite is
// registered, in the root's context, by the previous suite's last hook), so its top-level code
// runs when it would in a process of its own. One process per file cost every file node's
// start-up and a cold JIT of the same modules again and again.
// node:test prints its summary only when the event loop empties, which a file that leaves a
// handle open (a gRPC channel's idle timer) would delay indefinitely, so the last test ends the
// worker once the reporters have had the last file's events; scripts/test-events.mjs has
// already written every file's counts synchronously, and the parent prints the summary from them.
import { AsyncResource } from 'node:async_hooks';
import { after, describe, test } from 'node:test';
import { setTimeout } from 'node:timers';
import { pathToFileURL } from 'node:url';

const files = process.argv.slice(2);
const root = new AsyncResource('mesh-test-shard');

function next(i) {
  if (i === files.length) {
    test('mesh-test-shard: done', () => {
      setTimeout(() => process.exit(), 100);
    });
    return;
  }
  describe(files[i], async () => {
    // First, so the chain goes on even when the file fails to load; it runs before the file's own
    // after hooks, but the next suite starts only once this one has ended.
    after(() => root.runInAsyncScope(() => next(i + 1)));
    await import(pathToFileURL(files[i]).href);
  });
}

next(0);
