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
