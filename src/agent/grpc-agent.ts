import { mkdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { CONTROLLER_NAME, DEFAULT_NAMESPACE, TOKEN_FILE, TOKEN_MOUNT_PATH, TRUST_BUNDLE_KEY, TRUST_BUNDLE_MOUNT_PATH } from '../constants.js';
import { certificateServiceClient, type CreateCertificateResponse } from '../controller/ca-service.js';
import { certInfo, createCsr, rotateAt } from '../pki/index.js';
import { CERT_PROVIDER } from '../xds/translate.js';
import { parsePositiveDuration } from '../duration.js';
import { ExitCode, MeshError, usageError } from '../errors.js';
import type { Ui } from '../ui/context.js';
import { parseHostPort } from '../util/host-port.js';

/** The files the agent keeps current in --out-dir (file_watcher reads these names). */
export const AGENT_FILES = { cert: 'cert.pem', key: 'key.pem', ca: 'ca.pem', bootstrap: 'bootstrap.json' } as const;

/** Ports the controller serves (values controller.xdsPort / controller.xdsTlsPort defaults). */
const XDS_PLAINTEXT_PORT = 15010;
const XDS_TLS_PORT = 15012;

/** `mesh grpc-agent` options after validation. */
export interface GrpcAgentOptions {
  outDir: string;
  /** host:port of the CA service (the controller's TLS port). */
  caAddress: string;
  /** TLS name the CA's serving certificate must carry (default: the host of caAddress). */
  caServerName: string;
  /** host:port the workload's gRPC library dials for xDS. */
  xdsAddress: string;
  trustBundleFile: string;
  tokenFile: string;
  /** Fetch once, write, exit (an init container); otherwise renew until SIGTERM. */
  once: boolean;
  timeoutMs: number;
}

/** Flags as commander hands them over. */
export interface RawGrpcAgentOptions {
  outDir?: string;
  caAddress?: string;
  caServerName?: string;
  xdsAddress?: string;
  trustBundle?: string;
  tokenFile?: string;
  once?: boolean;
  timeout?: string;
}

/** Validate the flags (pure); `env` supplies the mesh namespace the defaults point at. */
export function validateGrpcAgentOptions(raw: RawGrpcAgentOptions, env: NodeJS.ProcessEnv = {}): GrpcAgentOptions {
  const ns = env.MESH_NAMESPACE || DEFAULT_NAMESPACE;
  const service = `${CONTROLLER_NAME}.${ns}.svc`;
  const caAddress = raw.caAddress ?? `${service}:${XDS_TLS_PORT}`;
  const xdsAddress = raw.xdsAddress ?? `${service}:${XDS_PLAINTEXT_PORT}`;
  for (const [flag, v] of [['--ca-address', caAddress], ['--xds-address', xdsAddress]] as const) {
    if (!parseHostPort(v)) throw usageError(`${flag} ${JSON.stringify(v)} is not host:port`, `e.g. ${flag} ${service}:${flag === '--ca-address' ? XDS_TLS_PORT : XDS_PLAINTEXT_PORT}`);
  }
  const timeoutMs = parsePositiveDuration(raw.timeout ?? '10s', '--timeout');
  return {
    outDir: raw.outDir ?? '/var/run/mesh/grpc',
    caAddress,
    caServerName: raw.caServerName ?? parseHostPort(caAddress)!.host,
    xdsAddress,
    trustBundleFile: raw.trustBundle ?? `${TRUST_BUNDLE_MOUNT_PATH}/${TRUST_BUNDLE_KEY}`,
    tokenFile: raw.tokenFile ?? `${TOKEN_MOUNT_PATH}/${TOKEN_FILE}`,
    once: raw.once === true,
    timeoutMs,
  };
}

/** What a projected ServiceAccount token says about its pod. Read, not verified: the CA verifies. */
export interface TokenClaims {
  namespace?: string;
  serviceAccount?: string;
  pod?: string;
}

/** The `kubernetes.io` claims of a ServiceAccount JWT (undefined fields when absent or not a JWT). */
export function tokenClaims(token: string): TokenClaims {
  const part = token.split('.')[1];
  if (!part) return {};
  try {
    const payload = JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as { 'kubernetes.io'?: { namespace?: unknown; serviceaccount?: { name?: unknown }; pod?: { name?: unknown } } };
    const k = payload['kubernetes.io'];
    const s = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);
    return { namespace: s(k?.namespace), serviceAccount: s(k?.serviceaccount?.name), pod: s(k?.pod?.name) };
  } catch {
    return {};
  }
}

/** The gRPC xDS bootstrap (GRPC_XDS_BOOTSTRAP) for a proxyless workload whose identity files live in `dir`. */
export function grpcBootstrap(o: { xdsAddress: string; namespace: string; pod: string; dir: string }): Record<string, unknown> {
  return {
    xds_servers: [{ server_uri: o.xdsAddress, channel_creds: [{ type: 'insecure' }], server_features: ['xds_v3'] }],
    node: { id: `${o.pod}.${o.namespace}`, locality: {}, metadata: { PROXY_KIND: 'grpc', NAMESPACE: o.namespace, POD_NAME: o.pod } },
    server_listener_resource_name_template: 'grpc/server?xds.resource.listening_address=%s',
    certificate_providers: {
      [CERT_PROVIDER]: {
        plugin_name: 'file_watcher',
        config: {
          certificate_file: join(o.dir, AGENT_FILES.cert),
          private_key_file: join(o.dir, AGENT_FILES.key),
          ca_certificate_file: join(o.dir, AGENT_FILES.ca),
          refresh_interval: '60s',
        },
      },
    },
  };
}

async function readInput(path: string, what: string, hint: string): Promise<string> {
  try {
    const text = await readFile(path, 'utf8');
    if (text.trim() === '') throw new Error('the file is empty');
    return text;
  } catch (err) {
    throw new MeshError(`${what} ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, { hint, exitCode: ExitCode.Usage, cause: err });
  }
}

/** Map the CA's gRPC status to a one-line error (the token is never part of it). */
function caError(err: grpc.ServiceError, address: string): MeshError {
  const why = err.details || err.message;
  switch (err.code) {
    case grpc.status.UNAVAILABLE:
    case grpc.status.DEADLINE_EXCEEDED:
      return new MeshError(`cannot reach the mesh CA at ${address}: ${why}`, { hint: 'is mesh-controller running, and does --ca-address name its TLS port (15012)?', exitCode: ExitCode.Cluster, cause: err });
    case grpc.status.UNAUTHENTICATED:
    case grpc.status.PERMISSION_DENIED:
      return new MeshError(`the mesh CA refused the certificate: ${why}`, { hint: `mount a projected ServiceAccount token with audience mesh-ca (mesh inject does) and pass it with --token-file`, exitCode: ExitCode.Cluster, cause: err });
    case grpc.status.UNIMPLEMENTED:
      return new MeshError(`${address} does not serve the mesh CA: ${why}`, { hint: 'point --ca-address at the controller\'s TLS port (15012); the plaintext xDS port has no CA', exitCode: ExitCode.Cluster, cause: err });
    default:
      return new MeshError(`the mesh CA failed to issue a certificate: ${why}`, { hint: 'see the controller\'s logs', cause: err });
  }
}

/** One CreateCertificate over TLS (trusting only `rootPem`), with the token as bearer metadata. */
export async function requestCertificate(o: { address: string; serverName: string; rootPem: string; token: string; csrPem: string; timeoutMs: number }): Promise<CreateCertificateResponse> {
  const Client = certificateServiceClient();
  const client = new Client(o.address, grpc.credentials.createSsl(Buffer.from(o.rootPem)), { 'grpc.ssl_target_name_override': o.serverName, 'grpc.default_authority': o.serverName });
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${o.token.trim()}`);
  try {
    return await new Promise<CreateCertificateResponse>((resolve, reject) => {
      const call = (client as unknown as Record<string, (req: unknown, md: grpc.Metadata, opts: grpc.CallOptions, cb: (e: grpc.ServiceError | null, r: CreateCertificateResponse) => void) => void>).CreateCertificate!;
      call.call(client, { csr: o.csrPem, validity_seconds: 0 }, md, { deadline: Date.now() + o.timeoutMs }, (e, r) => (e ? reject(caError(e, o.address)) : resolve(r)));
    });
  } finally {
    client.close();
  }
}

/**
 * Write the identity files the way the kubelet updates a projected volume: a fresh directory with
 * every file, then one rename of the `..data` symlink, so a reader never sees a new certificate
 * with the old key. The key file is 0600.
 */
export async function writeIdentityFiles(dir: string, files: Record<string, { text: string; mode: number }>): Promise<void> {
  await mkdir(dir, { recursive: true });
  const version = `..${Date.now().toString(36)}-${process.pid}`;
  const staged = join(dir, version);
  await mkdir(staged, { mode: 0o755 });
  try {
    for (const [name, f] of Object.entries(files)) await writeFile(join(staged, name), f.text, { mode: f.mode });
    const link = join(dir, '..data_tmp');
    await rm(link, { force: true });
    await symlink(version, link);
    const previous = await readlink(join(dir, '..data')).catch(() => undefined);
    await rename(link, join(dir, '..data'));
    for (const name of Object.keys(files)) {
      const target = join('..data', name);
      if ((await readlink(join(dir, name)).catch(() => undefined)) !== target) {
        await rm(join(dir, name), { force: true });
        await symlink(target, join(dir, name));
      }
    }
    if (previous && previous !== version) await rm(join(dir, previous), { recursive: true, force: true });
  } catch (err) {
    await rm(staged, { recursive: true, force: true });
    throw new MeshError(`cannot write the identity files to ${dir}: ${(err as Error).message}`, { hint: 'mount a writable emptyDir (medium: Memory) at --out-dir', cause: err });
  }
}

/** One issuance: a new key (never leaves this process but for the 0600 file), the CA's chain, the files. Returns the leaf's PEM. */
async function issueOnce(o: GrpcAgentOptions, env: NodeJS.ProcessEnv): Promise<{ leafPem: string; spiffeId: string; notAfter: string }> {
  const token = await readInput(o.tokenFile, '--token-file', 'mount a projected ServiceAccount token with audience mesh-ca (mesh inject does)');
  const rootPem = await readInput(o.trustBundleFile, '--trust-bundle', 'mount the mesh-trust-bundle ConfigMap (key ca.crt) there');
  const claims = tokenClaims(token);
  const namespace = env.POD_NAMESPACE || claims.namespace;
  const pod = env.POD_NAME || claims.pod;
  if (!namespace || !pod) throw usageError('cannot tell the pod: set POD_NAME and POD_NAMESPACE from the downward API', 'env: [{name: POD_NAME, valueFrom: {fieldRef: {fieldPath: metadata.name}}}, …]');
  const csr = await createCsr();
  const res = await requestCertificate({ address: o.caAddress, serverName: o.caServerName, rootPem, token, csrPem: csr.csrPem, timeoutMs: o.timeoutMs });
  const leafPem = res.cert_chain[0];
  if (!leafPem) throw new MeshError('the mesh CA answered without a certificate', { hint: 'see the controller\'s logs' });
  const info = certInfo(leafPem, 'issued certificate');
  await writeIdentityFiles(o.outDir, {
    [AGENT_FILES.cert]: { text: res.cert_chain.join(''), mode: 0o644 },
    [AGENT_FILES.key]: { text: csr.keyPem, mode: 0o600 },
    [AGENT_FILES.ca]: { text: res.trust_bundle || rootPem, mode: 0o644 },
    [AGENT_FILES.bootstrap]: { text: JSON.stringify(grpcBootstrap({ xdsAddress: o.xdsAddress, namespace, pod, dir: o.outDir }), null, 2) + '\n', mode: 0o644 },
  });
  return { leafPem, spiffeId: info.spiffeId ?? info.subject, notAfter: info.notAfter };
}

/** Injectable time, for tests. */
export interface AgentDeps {
  env: NodeJS.ProcessEnv;
  /** Resolves after `ms`, or early when `signal` aborts. */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => Date;
  signal?: AbortSignal;
}

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = setTimeout(done, Math.min(ms, 2 ** 31 - 1));
    function done(): void {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

/**
 * `mesh grpc-agent`: obtain the workload's SPIFFE certificate from the mesh CA (CSR + projected
 * token over TLS) and keep cert, key, trust bundle and the gRPC xDS bootstrap current in --out-dir
 * for a proxyless gRPC workload (GRPC_XDS_BOOTSTRAP=DIR/bootstrap.json). Renews at half-life; a
 * failed renewal is retried with backoff (1 s doubling to 60 s) while the current certificate lasts.
 * With --once the first failure is the exit code.
 */
export async function runGrpcAgent(o: GrpcAgentOptions, ui: Ui, deps: AgentDeps): Promise<number> {
  const sleep = deps.sleep ?? abortableSleep;
  const now = deps.now ?? (() => new Date());
  const signal = deps.signal ?? new AbortController().signal;
  const log = (msg: string): void => void ui.err.write(`${now().toISOString()} ${msg}\n`);
  let current = await issueOnce(o, deps.env);
  log(`issued ${current.spiffeId}, valid until ${current.notAfter}; files in ${o.outDir}`);
  if (o.once) return ExitCode.Ok;
  let backoff = 1000;
  let next = rotateAt(current.leafPem).getTime();
  while (!signal.aborted) {
    const wait = next - now().getTime();
    if (wait > 0) await sleep(wait, signal);
    if (signal.aborted) break;
    try {
      current = await issueOnce(o, deps.env);
      backoff = 1000;
      next = rotateAt(current.leafPem).getTime();
      log(`renewed ${current.spiffeId}, valid until ${current.notAfter}`);
    } catch (err) {
      const left = Date.parse(current.notAfter) - now().getTime();
      log(`renewal failed (${(err as Error).message}); retrying in ${backoff / 1000}s; the current certificate ${left > 0 ? `lasts ${Math.round(left / 1000)}s more` : 'has expired'}`);
      next = now().getTime() + backoff;
      backoff = Math.min(backoff * 2, 60_000);
    }
  }
  log('stopped');
  return ExitCode.Ok;
}
