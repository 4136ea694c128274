// applyStaged sends a stage as soon as what it needs is in the cluster (the namespace with the
// CRDs, RBAC with the configuration), yet reports progress stage by stage and, on a failure,
// lists exactly the objects that reached the cluster, including those of stages sent ahead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ApplyOptions, KubeObject } from '../../src/cluster/types.ts';
import { applyStaged, ApplyInterrupted } from '../../src/install/apply.ts';
import { loadTemplates } from '../../src/install/templates.ts';
import { renderManifests, STAGES, stageOf, type Stage } from '../../src/manifests/render.ts';
import { resolveValues } from '../../src/manifests/values.ts';
import { FakeCluster } from './fake-cluster.ts';
import { CA } from './helpers.ts';

/** A FakeCluster whose applies take a turn of the event loop, recording when each starts and ends and what the waits read. */
class RecordingCluster extends FakeCluster {
  readonly events: string[] = [];

  override async apply(obj: KubeObject, opts: ApplyOptions): Promise<KubeObject> {
    this.events.push(`start ${stageOf(obj)} ${obj.kind}`);
    await new Promise((resolve) => setImmediate(resolve));
    try {
      return await super.apply(obj, opts);
    } finally {
      this.events.push(`end ${stageOf(obj)} ${obj.kind}`);
    }
  }

  override async get(apiVersion: string, kind: string, name: string, namespace?: string): Promise<KubeObject | undefined> {
    const o = await super.get(apiVersion, kind, name, namespace);
    if (o && kind === 'CustomResourceDefinition') this.events.push('read crds');
    if (o && kind === 'Deployment') this.events.push('read workloads');
    return o;
  }

  first(prefix: string): number {
    const i = this.events.findIndex((e) => e.startsWith(prefix));
    assert.ok(i >= 0, `no event "${prefix}" in ${this.events.join(', ')}`);
    return i;
  }

  last(prefix: string): number {
    return this.events.length - 1 - [...this.events].reverse().findIndex((e) => e.startsWith(prefix));
  }
}

const objects = () => renderManifests(resolveValues(), loadTemplates(), { ca: CA });

test('the namespace goes out with the CRDs, RBAC with the configuration; the controller after both and Established CRDs, the webhook after its rollout; progress in stage order', async () => {
  const c = new RecordingCluster();
  const stages: Stage[] = [];
  const records = await applyStaged(c, objects(), { wait: true, timeoutMs: 5000, onStage: (s) => stages.push(s) });
  assert.deepEqual(stages, [...STAGES]);
  assert.deepEqual(records.map((r) => r.stage), [...records.map((r) => r.stage)].sort((a, b) => STAGES.indexOf(a) - STAGES.indexOf(b)), 'records in stage order');
  assert.ok(c.first('start namespace') < c.first('end crds'), 'the namespace was sent while the CRDs were in flight');
  assert.ok(Math.max(c.last('start rbac'), c.last('start config')) < Math.min(c.first('end rbac'), c.first('end config')), 'RBAC and configuration in flight together');
  const firstWorkload = c.first('start workloads');
  assert.ok(firstWorkload > Math.max(c.last('end rbac'), c.last('end config'), c.last('end namespace')), 'workloads after everything they mount and run as');
  assert.ok(firstWorkload > c.first('read crds'), 'workloads after the CRDs were read Established');
  assert.ok(c.first('start webhook') > c.last('end workloads') && c.first('start webhook') > c.first('read workloads'), 'the webhook after the rollout was read');
});

test('a failed CRD apply stops the install; the namespace, sent with the CRDs, is listed as applied (with anything else that reached the cluster), and nothing that needs the CRDs was sent', async () => {
  const c = new RecordingCluster();
  c.beforeApply = (o) => {
    if (o.kind === 'CustomResourceDefinition' && o.metadata.name.startsWith('mtls')) throw new Error('the API server refused it');
  };
  await assert.rejects(applyStaged(c, objects(), { wait: true, timeoutMs: 5000 }), (e: InstanceType<typeof ApplyInterrupted>) => {
    assert.ok(e instanceof ApplyInterrupted);
    assert.match(e.message, /refused it/);
    const inCluster = e.applied.map((r) => `${r.kind}/${r.name}`);
    assert.ok(inCluster.includes('Namespace/mesh-system'), inCluster.join(', '));
    assert.equal(inCluster.length, c.log.length, `applied lists exactly what reached the cluster: ${c.log.join(', ')}`);
    return true;
  });
  assert.equal(c.events.filter((e) => /^start (workloads|webhook) /.test(e)).length, 0, 'nothing that needs the CRDs was sent');
});
