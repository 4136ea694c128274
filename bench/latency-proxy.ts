import { createServer, connect, type Server, type Socket } from 'node:net';

/**
 * A loopback TCP proxy that holds every client->server chunk for `delayMs` before forwarding it,
 * keeping order. One HTTP request is (almost always) one chunk, so this adds about `delayMs` per
 * request, TLS included, without touching the server. For benchmarks only.
 */
export async function startLatencyProxy(target: { host: string; port: number }, delayMs: number): Promise<{ port: number; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((client) => {
    const upstream = connect(target.port, target.host);
    sockets.add(client).add(upstream);
    let chain = Promise.resolve();
    client.on('data', (chunk) => {
      chain = chain.then(() => new Promise<void>((r) => setTimeout(() => (upstream.write(chunk), r()), delayMs)));
    });
    upstream.pipe(client);
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end).on('error', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    port: (server.address() as { port: number }).port,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
