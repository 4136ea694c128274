import { parentPort, workerData } from 'node:worker_threads';
import type { KubeObject } from '../cluster/types.js';
import { uninjectObject, type ObjectResult } from '../manifests/inject.js';
import { streamInjector } from '../manifests/inject-stream.js';
import type { Values } from '../manifests/values.js';
import { runBatch, type BatchRequest, type BatchResult } from './inject-batch.js';

/**
 * A worker thread of InjectPool (src/commands/inject-pool.ts): parses, injects (or uninjects) and
 * writes each batch of documents with the same functions as the main thread, answering batches
 * in the order they arrive.
 */

/** What a worker is started with. */
export type InjectWorkerInit = { mode: 'inject'; values: Values; nativeSidecar: boolean; force: boolean } | { mode: 'uninject' };

const port = parentPort;
if (port) {
  const init = workerData as InjectWorkerInit;
  const namespaces = new Map<string, Record<string, string>>();
  const fn: (o: KubeObject) => ObjectResult = init.mode === 'inject' ? streamInjector(init.values, init.nativeSidecar, init.force, namespaces) : uninjectObject;
  port.on('message', (req: BatchRequest) => {
    for (const [name, labels] of req.namespaces) namespaces.set(name, labels);
    const res: BatchResult = runBatch(req, fn);
    port.postMessage(res);
  });
}
