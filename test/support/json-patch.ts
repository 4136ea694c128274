// A plain RFC 6902 applier (add, remove, replace), as the API server applies a webhook's patch
// (shared by the inject and webhook tests). The patches we make never add into arrays.
import assert from 'node:assert/strict';
import type { JsonPatchOp } from '../../src/manifests/inject.ts';

export function applyPatch(doc: unknown, ops: JsonPatchOp[]): unknown {
  let root = structuredClone(doc);
  for (const op of ops) {
    if (op.path === '') {
      assert.equal(op.op, 'replace');
      root = structuredClone((op as { value: unknown }).value);
      continue;
    }
    const parts = op.path.slice(1).split('/').map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    const last = parts.pop()!;
    let parent: any = root;
    for (const p of parts) parent = parent[Array.isArray(parent) ? Number(p) : p];
    assert.ok(parent && typeof parent === 'object', `${op.op} ${op.path}: parent missing`);
    if (op.op === 'remove') {
      assert.ok(last in parent, `remove ${op.path}: missing`);
      delete parent[last];
    } else if (op.op === 'replace') {
      assert.ok(last in parent, `replace ${op.path}: missing`);
      parent[last] = structuredClone(op.value);
    } else {
      assert.ok(!Array.isArray(parent), 'the patches we make never add into arrays');
      parent[last] = structuredClone(op.value);
    }
  }
  return root;
}
