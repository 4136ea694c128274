// Every metric the controller registers is in the table of docs/observability.md, and the table
// names no metric the controller does not have.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ControllerMetrics } from '../../src/controller/metrics.ts';

test('docs/observability.md documents every control-plane metric, and only those', async () => {
  const doc = readFileSync(new URL('../../docs/observability.md', import.meta.url), 'utf8');
  const section = doc.slice(doc.indexOf('## Control-plane metrics'));
  const registered = (await new ControllerMetrics().registry.getMetricsAsJSON()).map((m) => m.name).sort();
  assert.ok(registered.length >= 13);
  const documented = [...section.matchAll(/^\| `(mesh_[a-z_]+)` \|/gm)].map((m) => m[1]).sort();
  assert.deepEqual(documented, registered);
});
