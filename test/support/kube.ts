// Test helpers for anything that talks to Kubernetes: a real HTTPS API server on a free loopback
// port with a kubeconfig for it, and a kubelet/controller stand-in that makes workloads ready.
import { request as httpsRequest } from 'node:https';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ApiServer, type ApiServerOptions } from './apiserver/server.ts';

export { ApiServer } from './apiserver/server.ts';
export type { Fault, PodProxyHandler, PodProxyRequest, PodProxyResponse, RequestRecord } from './apiserver/server.ts';
export type { Rule, UserInfo } from './apiserver/auth.ts';
export { startKubelet, type Kubelet, type KubeletOptions } from './apiserver/kubelet.ts';

/** A running test API server, its kubeconfig and its controls. */
export interface TestCluster {
  /** https://127.0.0.1:PORT */
  url: string;
  /** A kubeconfig file (context "test", admin token) for client-node, kubectl and `mesh --kubeconfig`. */
  kubeconfigPath: string;
  /** The admin bearer token (user "admin", group system:masters). */
  token: string;
  /** The server itself: store, registry, auth (tokens, rules), faults, pod proxy, restart. */
  server: ApiServer;
  /** Write another kubeconfig for `token` (e.g. a restricted user); returns its path. */
  kubeconfigFor(token: string, name?: string): string;
  /** A raw HTTPS request to the server (admin token unless `token`; `null` sends none). */
  request(method: string, path: string, opts?: { token?: string | null; body?: string; headers?: Record<string, string> }): Promise<RawResponse>;
  /** Stop the server and delete the temp directory. */
  stop(): Promise<void>;
}

/** Answer of `TestCluster.request`. */
export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  /** The body parsed as JSON (undefined when it is not JSON). */
  json: any;
}

/** Options of `startApiServer`. */
export interface StartOptions extends ApiServerOptions {
  /** Objects to create before returning (namespaces and CRDs first). */
  seed?: Record<string, unknown>[];
}

/** kubeconfig YAML for a server URL, CA and bearer token. */
export function kubeconfigYaml(url: string, caPem: string, token: string, user = 'admin'): string {
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: { server: url, 'certificate-authority-data': Buffer.from(caPem).toString('base64') } }],
    users: [{ name: user, user: { token } }],
    contexts: [{ name: 'test', context: { cluster: 'test', user, namespace: 'default' } }],
    'current-context': 'test',
    preferences: {},
  });
}

/** Start a test API server on a free 127.0.0.1 port and write its kubeconfig. Call `stop()` when done. */
export async function startApiServer(opts: StartOptions = {}): Promise<TestCluster> {
  const server = await ApiServer.start(opts);
  const dir = mkdtempSync(join(tmpdir(), 'mesh-apiserver-'));
  let n = 0;
  const kubeconfigFor = (token: string, name = `user${++n}`) => {
    const p = join(dir, `kubeconfig-${name}`);
    writeFileSync(p, kubeconfigYaml(server.url, server.caPem, token, name));
    return p;
  };
  const kubeconfigPath = join(dir, 'kubeconfig');
  writeFileSync(kubeconfigPath, kubeconfigYaml(server.url, server.caPem, server.adminToken));
  if (opts.seed) server.seed(opts.seed);
  return {
    url: server.url,
    kubeconfigPath,
    token: server.adminToken,
    server,
    kubeconfigFor,
    request: (method, path, o = {}) => rawRequest(server, method, path, o),
    async stop() {
      await server.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function rawRequest(server: ApiServer, method: string, path: string, o: { token?: string | null; body?: string; headers?: Record<string, string> }): Promise<RawResponse> {
  const token = o.token === undefined ? server.adminToken : o.token;
  const headers: Record<string, string> = { ...(token === null ? {} : { Authorization: `Bearer ${token}` }), ...o.headers };
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${server.url}${path}`, { method, ca: server.caPem, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(body);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
      });
    });
    req.on('error', reject);
    req.end(o.body);
  });
}
