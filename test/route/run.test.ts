import { defineRouteScenarios, SEED } from './scenarios.ts';
import { MemoryCluster } from './support.ts';

// The handler scenarios against the in-memory cluster (fast; the same scenarios run against the
// test Kubernetes API server in apiserver.test.ts).
defineRouteScenarios('memory', async () => {
  const cluster = new MemoryCluster();
  for (const o of SEED) cluster.put(o);
  return {
    cluster,
    clusterWithoutCrd: async () => {
      const bare = new MemoryCluster(new Set(['v1/Service']));
      for (const o of SEED) bare.put(o);
      return bare;
    },
    close: async () => {},
  };
});
