import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ExitCode, MeshError, toMeshError, usageError } from '../../src/errors.ts';
import { formatError } from '../../src/ui/errors.ts';
import { handleError } from '../../src/cli.ts';

test('formatError prints one error line and a hint line; the stack only when verbose', () => {
  const e = new MeshError('deployment "web" not found', { hint: 'check -n', exitCode: ExitCode.Failed });
  assert.equal(formatError(e, false), 'error: deployment "web" not found\n  hint: check -n\n');
  assert.match(formatError(e, true), /^error: .*\n {2}hint: check -n\nMeshError: .*\n\s+at /);
});

const cases: { name: string; err: unknown; code: ExitCode; message: RegExp }[] = [
  { name: 'connection refused', err: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6443'), { code: 'ECONNREFUSED' }), code: ExitCode.Cluster, message: /cannot reach the Kubernetes API server/ },
  { name: 'unknown host', err: Object.assign(new Error('getaddrinfo ENOTFOUND k8s'), { code: 'ENOTFOUND' }), code: ExitCode.Cluster, message: /cannot reach/ },
  { name: 'expired server cert', err: Object.assign(new Error('certificate has expired'), { code: 'CERT_HAS_EXPIRED' }), code: ExitCode.Cluster, message: /TLS error/ },
  { name: 'forbidden (client-node ApiException)', err: Object.assign(new Error('HTTP-Code: 403'), { code: 403, body: '{"kind":"Status","message":"pods is forbidden: User \\"x\\" cannot list"}' }), code: ExitCode.Cluster, message: /refused the request: pods is forbidden/ },
  { name: 'unauthorized', err: Object.assign(new Error('Unauthorized'), { statusCode: 401 }), code: ExitCode.Cluster, message: /refused the request/ },
  { name: 'missing file', err: Object.assign(new Error("ENOENT: no such file or directory, open 'x.yaml'"), { code: 'ENOENT' }), code: ExitCode.Usage, message: /x\.yaml/ },
  { name: 'anything else', err: new Error('boom'), code: ExitCode.Failed, message: /^boom$/ },
  { name: 'a thrown string', err: 'boom', code: ExitCode.Failed, message: /^boom$/ },
];
for (const c of cases) {
  test(`toMeshError maps ${c.name} to exit ${c.code}`, () => {
    const m = toMeshError(c.err);
    assert.equal(m.exitCode, c.code);
    assert.match(m.message, c.message);
    if (c.code === ExitCode.Cluster) assert.ok(m.hint, 'cluster errors carry a hint');
  });
}

test('handleError returns the MeshError exit code and writes no stack without verbose', () => {
  let out = '';
  const code = handleError(usageError('bad flag', 'see --help'), false, (s) => (out += s));
  assert.equal(code, ExitCode.Usage);
  assert.equal(out, 'error: bad flag\n  hint: see --help\n');
});
