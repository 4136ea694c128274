import { performance } from 'node:perf_hooks';
import { startApiServer } from '../test/support/kube.ts';
import { median, type Benchmark, type BenchResult } from './harness.ts';

const RUNS = 50;

/** How fast the test API server starts and answers (informational: tests depend on it staying cheap). */
export const benchmark: Benchmark = {
  name: 'test API server',
  async run(): Promise<BenchResult[]> {
    let t = performance.now();
    const c = await startApiServer();
    const first = performance.now() - t;
    t = performance.now();
    const c2 = await startApiServer();
    const again = performance.now() - t;
    await c2.stop();

    const cm = c.server.resource('', 'ConfigMap');
    for (let i = 0; i < 500; i++) c.server.api.create(cm, 'default', { metadata: { name: `cm-${i}`, labels: { i: String(i % 10) } }, data: { k: 'v'.repeat(100) } });
    const get: number[] = [];
    const list: number[] = [];
    const watch: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      t = performance.now();
      await c.request('GET', '/api/v1/namespaces/default/configmaps/cm-1');
      get.push(performance.now() - t);
      t = performance.now();
      await c.request('GET', '/api/v1/namespaces/default/configmaps?labelSelector=i%3D3');
      list.push(performance.now() - t);
    }
    // Watch: time from a write to the event line arriving at a raw watch client.
    for (let i = 0; i < 10; i++) {
      const rv = c.server.store.resourceVersion;
      const pending = c.request('GET', `/api/v1/namespaces/default/configmaps?watch=1&resourceVersion=${rv}&timeoutSeconds=5&fieldSelector=metadata.name%3Dw-${i}`);
      await c.server.watchesOpen();
      t = performance.now();
      c.server.api.create(cm, 'default', { metadata: { name: `w-${i}` } });
      c.server.dropWatches();
      await pending;
      watch.push(performance.now() - t);
    }
    await c.stop();
    return [
      { name: 'first start (with CA and cert generation)', value: first, unit: 'ms' },
      { name: 'later start', value: again, unit: 'ms' },
      { name: 'GET one object', value: median(get), unit: 'ms', detail: `median of ${RUNS}, HTTPS keep-alive` },
      { name: 'LIST 50 of 500 by label', value: median(list), unit: 'ms', detail: `median of ${RUNS}` },
      { name: 'write to watch event received (stream ended)', value: median(watch), unit: 'ms', detail: 'median of 10' },
    ];
  },
};
