import { execa } from 'execa';
import { fileURLToPath } from 'node:url';

/** Absolute path of the repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The built CLI, as users run it (tests run after `npm run build`). */
export const MESH_BIN = fileURLToPath(new URL('../../bin/mesh', import.meta.url));

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Run `mesh ARGS` as a child process. HOME is pointed at an empty directory unless given, so no
 * developer kubeconfig leaks into a test; colour is off unless the test sets FORCE_COLOR.
 */
export async function runMesh(args: string[], opts: { env?: Record<string, string | undefined>; input?: string; cwd?: string; nodeArgs?: string[] } = {}): Promise<RunResult> {
  const env: Record<string, string | undefined> = { HOME: '/nonexistent-home', KUBECONFIG: undefined, NO_COLOR: undefined, FORCE_COLOR: undefined, ...opts.env };
  const r = await execa(process.execPath, [...(opts.nodeArgs ?? []), MESH_BIN, ...args], {
    env: env as Record<string, string>,
    extendEnv: false,
    input: opts.input ?? '',
    cwd: opts.cwd ?? ROOT,
    reject: false,
    timeout: 60_000,
    stripFinalNewline: false,
  });
  return { code: r.exitCode ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Modules the fast paths (help, offline commands) must never load: startup time is a feature. */
export const HEAVY_MODULES = ['@kubernetes/client-node', '@grpc/', 'protobufjs', 'inquirer', 'prom-client', '@peculiar/x509'] as const;

/**
 * Run `mesh ARGS` recording every module URL it resolves (test/support/trace-imports.mjs), so a
 * test can prove what a command does not load. The CLI always runs (MESH_CLI_CACHE=off: bin/mesh
 * does not answer --help from the build's recorded answers) unless opts.env sets MESH_CLI_CACHE.
 */
export async function runMeshTraced(args: string[], opts: Parameters<typeof runMesh>[1] = {}): Promise<RunResult & { modules: string[] }> {
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const trace = join(mkdtempSync(join(tmpdir(), 'mesh-trace-')), 'trace.txt');
  const r = await runMesh(args, { ...opts, env: { MESH_CLI_CACHE: 'off', ...opts.env, MESH_TRACE_FILE: trace }, nodeArgs: [...(opts.nodeArgs ?? []), '--import', join(ROOT, 'test/support/trace-imports.mjs')] });
  let modules: string[] = [];
  try {
    modules = readFileSync(trace, 'utf8').split('\n').filter(Boolean);
  } catch {
    /* nothing was resolved */
  }
  return { ...r, modules };
}

/** The first module of `heavy` found among `modules` (node_modules URLs), if any. */
export function loadedAny(modules: readonly string[], heavy: readonly string[] = HEAVY_MODULES): string | undefined {
  for (const h of heavy) {
    const hit = modules.find((u) => u.includes(`/node_modules/${h}`));
    if (hit) return hit;
  }
  return undefined;
}

// In-process runs change process-wide state (exitCode, env, cwd): one at a time.
let inProcessQueue: Promise<unknown> = Promise.resolve();

/**
 * Run `mesh ARGS` in this process through the CLI's own entry point (src/cli.ts main), with
 * stdout, stderr and stdin captured: the same parsing, handlers and error rendering as bin/mesh,
 * without a process start (about a second of CPU each, mostly loading client-node). Env and cwd
 * are set as {@link runMesh} sets them for the duration of the run. Tests of the process boundary
 * itself (exit status, pipes, signals, what is loaded) use {@link runMesh}.
 */
export function runMeshInProcess(args: string[], opts: { env?: Record<string, string | undefined>; input?: string; cwd?: string } = {}): Promise<RunResult> {
  const run = inProcessQueue.then(() => inProcess(args, opts));
  inProcessQueue = run.catch(() => undefined);
  return run;
}

async function inProcess(args: string[], opts: { env?: Record<string, string | undefined>; input?: string; cwd?: string }): Promise<RunResult> {
  const { main } = await import('../../src/cli.ts');
  const { PassThrough, Readable, Writable } = await import('node:stream');
  const text = { out: '', err: '' };
  const sink = (k: 'out' | 'err') =>
    new Writable({
      decodeStrings: false,
      write(chunk: string | Buffer, _enc, cb) {
        text[k] += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
        cb();
      },
    });
  const stdin = opts.input === undefined ? new PassThrough().end() : Readable.from([Buffer.from(opts.input)]);
  const env: Record<string, string | undefined> = { HOME: '/nonexistent-home', KUBECONFIG: undefined, NO_COLOR: undefined, FORCE_COLOR: undefined, ...opts.env };
  const saved = { env: Object.fromEntries(Object.keys(env).map((k) => [k, process.env[k]])), cwd: process.cwd(), exitCode: process.exitCode };
  const setEnv = (e: Record<string, string | undefined>) => {
    for (const [k, v] of Object.entries(e)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  };
  setEnv(env);
  process.chdir(opts.cwd ?? ROOT);
  process.exitCode = undefined;
  try {
    await main([process.execPath, MESH_BIN, ...args], { out: sink('out'), err: sink('err'), in: stdin });
    return { code: Number(process.exitCode ?? 0), stdout: text.out, stderr: text.err };
  } finally {
    process.exitCode = saved.exitCode;
    process.chdir(saved.cwd);
    setEnv(saved.env);
  }
}
