import { parentPort } from 'node:worker_threads';
import { toYaml } from './yaml.js';

/**
 * A worker thread of YamlPool (src/cluster/yaml-pool.ts): turns each batch of objects into YAML
 * with the same toYaml as the main thread, so the bytes are the same. Batches are answered in
 * the order they arrive.
 */

/** One batch, as YamlPool sends it. */
export interface YamlRequest {
  objects: unknown[];
}

/** The answer to one batch: the texts in order, or the error toYaml threw. */
export type YamlResponse = { texts: string[] } | { error: { name: string; message: string } };

const port = parentPort;
if (port) {
  port.on('message', (req: YamlRequest) => {
    let res: YamlResponse;
    try {
      res = { texts: req.objects.map(toYaml) };
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      res = { error: { name: e.name, message: e.message } };
    }
    port.postMessage(res);
  });
}
