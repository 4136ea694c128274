// The webhook stops reading a body at its limit: a flood is answered 413 and the connection closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { webhookHandler, type WebhookContext } from '../../src/controller/webhook.ts';
import { resolveValues } from '../../src/manifests/values.ts';

const ctx: WebhookContext = { values: async () => resolveValues({}), nativeSidecar: () => false, namespaceLabels: async () => undefined };
const LIMIT = 1024 * 1024;
const CHUNK = 64 * 1024;

/** A server with the handler that records how many bytes each connection read. */
async function serve(): Promise<{ server: Server; port: number; read: Promise<number> }> {
  const server = createServer(webhookHandler(ctx, { maxBody: LIMIT }));
  const read = new Promise<number>((resolve) => server.on('connection', (s: Socket) => s.on('close', () => resolve(s.bytesRead))));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as AddressInfo).port, read };
}

/** Send a header then up to `total` bytes of body as fast as the socket takes them; resolves to the response text. */
function flood(port: number, header: string, total: number, chunked = false): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let answer = '';
    let sent = 0;
    const data = Buffer.alloc(CHUNK, 0x20);
    const chunk = chunked ? Buffer.concat([Buffer.from(`${CHUNK.toString(16)}\r\n`), data, Buffer.from('\r\n')]) : data;
    s.on('data', (d) => (answer += d.toString()));
    s.on('error', () => undefined);
    s.on('close', () => resolve(answer));
    s.write(header);
    const pump = (): void => {
      while (sent < total && !s.destroyed) {
        sent += CHUNK;
        if (!s.write(chunk)) return void s.once('drain', pump);
      }
      if (!s.destroyed) s.end();
    };
    pump();
  });
}

test('a chunked body over the limit is answered 413 and the rest is not read', async () => {
  const { server, port, read } = await serve();
  try {
    const answer = await flood(port, 'POST /inject HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n', 64 * LIMIT, true);
    assert.match(answer, /^HTTP\/1\.1 413/);
    assert.match(answer, /request body over 1048576 bytes/);
    const bytes = await read;
    // A little over the limit may be in flight (socket buffers); 64 MB must not be.
    assert.ok(bytes < LIMIT + 16 * CHUNK, `the server read ${bytes} bytes of a 64 MB body with a 1 MB limit`);
  } finally {
    server.close();
  }
});

test('a declared Content-Length over the limit is refused before the body is read', async () => {
  const { server, port, read } = await serve();
  try {
    const answer = await flood(port, `POST /inject HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${32 * LIMIT}\r\n\r\n`, 32 * LIMIT);
    assert.match(answer, /^HTTP\/1\.1 413/);
    assert.ok((await read) < LIMIT, 'the server read the body it had already refused');
  } finally {
    server.close();
  }
});

test('a body under the limit is still reviewed', async () => {
  const { server, port } = await serve();
  try {
    const body = JSON.stringify({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', request: { uid: 'u1', kind: { group: '', version: 'v1', kind: 'ConfigMap' }, operation: 'CREATE', object: {} } });
    const res = await fetch(`http://127.0.0.1:${port}/inject`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { response: { uid: string } }).response.uid, 'u1');
  } finally {
    server.close();
  }
});
