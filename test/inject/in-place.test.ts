import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { runMesh } from '../support/cli.ts';
import { detectIndent, detectIndentSeq, editYamlDocument } from '../../src/cluster/yaml-edit.ts';

// Four-space indentation, sequences indented under their key, comments at every level.
const WORKLOAD = `# The shop's frontend.
apiVersion: apps/v1
kind: Deployment
metadata:
    name: web # owned by team-web
    labels:
        app: web
spec:
    replicas: 2 # scaled by the HPA
    selector:
        matchLabels: {app: web}
    template:
        metadata:
            labels:
                app: web
        spec:
            containers:
                - name: app # the app itself
                  image: nginx:1.27 # pinned
                  ports:
                      - containerPort: 80
`;

test('--in-place keeps the comments and the indentation of the documents it edits; uninject --in-place gives the file back byte for byte', async () => {
  const d = mkdtempSync(join(tmpdir(), 'mesh-in-place-'));
  const f = join(d, 'web.yaml');
  writeFileSync(f, WORKLOAD);
  const r = await runMesh(['inject', '-f', f, '--in-place']);
  assert.equal(r.code, 0, r.stderr);
  const edited = readFileSync(f, 'utf8');
  for (const kept of ["# The shop's frontend.\n", '    name: web # owned by team-web\n', '    replicas: 2 # scaled by the HPA\n', '        matchLabels: {app: web}\n', '                - name: app # the app itself\n', '                  image: nginx:1.27 # pinned\n']) {
    assert.ok(edited.includes(kept), `kept ${JSON.stringify(kept)}:\n${edited}`);
  }
  const containers = parse(edited).spec.template.spec.containers.map((c: { name: string }) => c.name);
  assert.deepEqual(containers.sort(), ['app', 'mesh-proxy']);
  const back = await runMesh(['uninject', '-f', f, '--in-place']);
  assert.equal(back.code, 0, back.stderr);
  assert.equal(readFileSync(f, 'utf8'), WORKLOAD);
});

test('editYamlDocument replaces only what changed and matches list items by name', () => {
  const raw = 'a: 1 # one\nlist:\n  - name: x # first\n    v: 1\n  - name: y\n    v: 2\n';
  assert.equal(editYamlDocument(raw, { a: 1, list: [{ name: 'y', v: 3 }] }), 'a: 1 # one\nlist:\n  - name: y\n    v: 3\n');
  assert.equal(editYamlDocument(raw, { a: 1, list: [{ name: 'w', v: 0 }, { name: 'x', v: 1 }, { name: 'y', v: 2 }] }), 'a: 1 # one\nlist:\n  - name: w\n    v: 0\n  - name: x # first\n    v: 1\n  - name: y\n    v: 2\n');
  assert.equal(detectIndent('a:\n    b: 1\n'), 4);
  assert.equal(detectIndentSeq('a:\n- 1\n'), false);
  assert.equal(detectIndentSeq('a:\n  - 1\n'), true);
});
