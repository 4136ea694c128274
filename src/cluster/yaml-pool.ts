import { Worker } from 'node:worker_threads';
import type { YamlRequest, YamlResponse } from './yaml-worker.js';

/**
 * toYaml on worker threads, for `mesh inject` on large inputs: writing YAML is most of its CPU
 * time, so the main thread keeps reading, parsing and injecting while workers serialise earlier
 * batches. Each worker answers its batches in order; callers keep the output order themselves.
 */
export class YamlPool {
  private readonly workers: Worker[] = [];
  /** Per worker, the callbacks of its batches not answered yet, oldest first. */
  private readonly waiting: { resolve: (t: string[]) => void; reject: (e: Error) => void }[][] = [];
  private next = 0;
  private failed: Error | undefined;

  constructor(size: number) {
    // Built: dist/cluster/yaml-worker.js next to this file; from source (tests run through tsx,
    // whose loader workers inherit via execArgv): the .ts file.
    const file = new URL(import.meta.url.endsWith('.ts') ? './yaml-worker.ts' : './yaml-worker.js', import.meta.url);
    for (let i = 0; i < size; i++) {
      const w = new Worker(file);
      const queue: (typeof this.waiting)[number] = [];
      w.on('message', (res: YamlResponse) => {
        const cb = queue.shift();
        if (!cb) return;
        if ('texts' in res) cb.resolve(res.texts);
        else {
          // The same error toYaml would have thrown on the main thread (name and message).
          const e = new Error(res.error.message);
          e.name = res.error.name;
          cb.reject(e);
        }
      });
      w.on('error', (err) => this.fail(err));
      w.on('exit', (code) => {
        if (queue.length) this.fail(new Error(`YAML worker thread exited (code ${code}) with work pending`));
      });
      this.workers.push(w);
      this.waiting.push(queue);
    }
  }

  private fail(err: Error): void {
    this.failed ??= err;
    for (const q of this.waiting) for (const cb of q.splice(0)) cb.reject(err);
  }

  /** YAML for each object (toYaml), computed on the next worker in turn. */
  dump(objects: unknown[]): Promise<string[]> {
    if (this.failed) return Promise.reject(this.failed);
    const i = this.next++ % this.workers.length;
    return new Promise((resolve, reject) => {
      this.waiting[i]!.push({ resolve, reject });
      const req: YamlRequest = { objects };
      this.workers[i]!.postMessage(req);
    });
  }

  /** Stop the workers (pending batches are rejected). Callers must close a pool: workers keep the process alive. */
  async close(): Promise<void> {
    this.failed ??= new Error('YAML pool closed');
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
