import type { Cluster } from '../../src/cluster/types.ts';

/**
 * A Cluster for unit tests: the members a test supplies, and for every other method one that
 * throws "not used by this test", so the Cluster interface can grow without breaking fakes and a
 * test that calls something unexpected fails loudly.
 */
export function fakeCluster<T extends Partial<Cluster>>(members: T): Cluster & T {
  const base = { contextName: 'fake', server: 'https://fake.invalid', ...members };
  return new Proxy(base, {
    get(target, prop, receiver) {
      if (prop in target || typeof prop === 'symbol' || prop === 'then') return Reflect.get(target, prop, receiver);
      return () => {
        throw new Error(`fake cluster: ${String(prop)}() is not used by this test`);
      };
    },
  }) as unknown as Cluster & T;
}
