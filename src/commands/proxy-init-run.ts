import { spawn } from 'node:child_process';
import { rename, rm, writeFile } from 'node:fs/promises';
import { ExitCode, MeshError } from '../errors.js';
import type { Ui } from '../ui/context.js';
import type { BootstrapFlags } from '../manifests/bootstrap.js';
import type { ProxyInitFlags } from '../manifests/iptables.js';
import { planProxyInit } from '../manifests/proxy-init.js';

/** Feed `input` to `cmd` on stdin; resolves with its exit code and stderr (ENOENT: code -1). */
function runWithInput(cmd: string, args: string[], input: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.on('error', (err: NodeJS.ErrnoException) => resolve({ code: -1, stderr: err.code === 'ENOENT' ? `${cmd}: not found` : err.message }));
    child.on('close', (code) => resolve({ code: code ?? -1, stderr }));
    child.stdin.on('error', () => {});
    child.stdin.end(input);
  });
}

/** Write `text` to `path` atomically: a temporary file beside it, renamed over it (the proxy never reads half a file). */
async function writeAtomically(path: string, text: string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    await writeFile(tmp, text, { mode: 0o644 });
    await rename(tmp, path);
  } catch (err) {
    await rm(tmp, { force: true });
    throw new MeshError(`--bootstrap-out ${path}: ${(err as Error).message}`, {
      hint: 'mesh-init writes the bootstrap to the mesh-proxy-config volume mounted at /etc/mesh/proxy',
      cause: err,
    });
  }
}

/**
 * `mesh proxy-init`: with --bootstrap-out, write the proxy's Envoy bootstrap for this pod (`env`
 * holds its downward-API identity); then install the redirect in the pod's network namespace with
 * iptables-restore (IPv4 required; IPv6 applied when ip6tables-restore is present). --dry-run
 * prints the rules and the bootstrap instead.
 */
export async function runProxyInit(flags: ProxyInitFlags & BootstrapFlags & { dryRun: boolean }, ui: Ui, env: Readonly<Record<string, string | undefined>>): Promise<number> {
  const { v4, v6, bootstrap, redirect } = planProxyInit(flags, env);
  if (flags.dryRun && !redirect) {
    if (bootstrap) ui.out.write(`# envoy bootstrap -> ${bootstrap.out}\n${bootstrap.json}`);
    return ExitCode.Ok;
  }
  if (flags.dryRun) {
    ui.out.write(`# iptables-restore --noflush\n${v4}# ip6tables-restore --noflush\n${v6}`);
    if (bootstrap) ui.out.write(`# envoy bootstrap -> ${bootstrap.out}\n${bootstrap.json}`);
    return ExitCode.Ok;
  }
  if (bootstrap) {
    await writeAtomically(bootstrap.out, bootstrap.json);
    ui.err.write(`envoy bootstrap written to ${bootstrap.out}\n`);
  }
  if (!redirect) return ExitCode.Ok;
  const r4 = await runWithInput('iptables-restore', ['--noflush'], v4);
  if (r4.code !== 0) {
    throw new MeshError(`iptables-restore failed: ${r4.stderr.trim() || `exit ${r4.code}`}`, {
      hint: 'mesh proxy-init runs as root with NET_ADMIN and NET_RAW in the mesh-init container; use --dry-run to see the rules',
    });
  }
  const r6 = await runWithInput('ip6tables-restore', ['--noflush'], v6);
  if (r6.code !== 0) ui.err.write(`warning: IPv6 redirect not installed (${r6.stderr.trim() || `exit ${r6.code}`}); IPv4 is\n`);
  ui.err.write('traffic redirect installed\n');
  return ExitCode.Ok;
}
