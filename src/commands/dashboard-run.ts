import { spawn } from 'node:child_process';
import { isIP } from 'node:net';
import type { Ui } from '../ui/context.js';
import type { ConnectOptions } from '../cluster/types.js';
import { ExitCode, usageError } from '../errors.js';
import { parseDuration } from '../duration.js';
import { DEFAULT_CONCURRENCY } from '../metrics/scrape.js';
import type { DashboardOptions } from '../dashboard/start.js';
import type { RawDashboardFlags } from './dashboard.js';

/** Validate `mesh dashboard` flags in one place (usage errors, exit 2). */
export async function validateDashboardOptions(raw: RawDashboardFlags): Promise<DashboardOptions> {
  const address = raw.address ?? '127.0.0.1';
  if (isIP(address) === 0) throw usageError(`--address ${address} is not an IP address`, 'e.g. --address 127.0.0.1 (the default) or --address 0.0.0.0 to listen on every interface');
  const port = Number(raw.port ?? '0');
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError(`--port ${raw.port} must be a whole number from 0 to 65535`, '0 picks a free port');
  const refreshMs = parseDuration(raw.refresh ?? '2s', '--refresh');
  if (refreshMs < 100 || refreshMs > 3_600_000) throw usageError(`--refresh ${raw.refresh} is out of range`, 'use between 100ms and 1h');
  const windowSeconds = parseDuration(raw.window ?? '1m', '--window') / 1000;
  if (windowSeconds < 1 || windowSeconds > 86_400) throw usageError(`--window ${raw.window} is out of range`, 'use between 1s and 24h');
  const concurrency = raw.concurrency === undefined ? DEFAULT_CONCURRENCY : Number(raw.concurrency);
  if (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 256) throw usageError(`--concurrency ${raw.concurrency} must be a whole number from 1 to 256`);
  const files = raw.filename && raw.filename.length ? raw.filename : undefined;
  if (files && raw.allowActions) throw usageError('--allow-actions needs a cluster: with -f the dashboard shows manifests and changes nothing', 'drop -f to act on the cluster, or edit the manifests (mesh route set ... -f DIR --dry-run)');
  if (files && raw.prometheusUrl) throw usageError('--prometheus-url needs a cluster: with -f there are no metrics', 'drop -f to read live metrics');
  const { parsePrometheusUrl } = await import('../metrics/prometheus-api.js');
  const { DEFAULT_CONTROLLER, controllerLocation } = await import('../status/controller-debug.js');
  return {
    ...(files ? { files } : {}),
    address, port, open: raw.open !== false, allowActions: raw.allowActions === true,
    ...(raw.prometheusUrl !== undefined ? { prometheusUrl: parsePrometheusUrl(raw.prometheusUrl) } : {}),
    windowSeconds, refreshMs, concurrency,
    controller: controllerLocation({ meshNamespace: raw.meshNamespace, controllerPort: raw.controllerPort }, DEFAULT_CONTROLLER),
    ...(raw.namespace ? { namespace: raw.namespace } : {}),
  };
}

/** Whether an address is reachable from this machine only. */
export function isLoopback(address: string): boolean {
  return address === '::1' || address.startsWith('127.');
}

/** Open `url` in the desktop's browser (best effort: a failure only means the user opens it). */
function openBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]];
  const child = spawn(cmd as string, args as string[], { stdio: 'ignore', detached: true });
  child.on('error', () => undefined);
  child.unref();
}

/** Run `mesh dashboard` until Ctrl-C (or `deps.signal`). Prints the URL; opens it only on an interactive terminal. */
export async function runDashboard(opts: DashboardOptions, ui: Ui, deps: { connect: ConnectOptions; signal?: AbortSignal }): Promise<number> {
  const { startDashboard } = await import('../dashboard/start.js');
  if (!isLoopback(opts.address)) ui.err.write(ui.color.yellow(`warning: listening on ${opts.address}: anyone who can reach this address and learns the URL's token sees the mesh${opts.allowActions ? ' and can promote or roll back canaries' : ''}`) + '\n');
  const { withInterrupt } = await import('../util/interrupt.js');
  // Ctrl-C is handled from before the URL is printed: whoever reads it may stop the server at once.
  await withInterrupt(async (signal) => {
    const running = await startDashboard(opts, { connect: deps.connect, log: (line) => void ui.err.write(ui.color.dim(line) + '\n') });
    try {
      ui.err.write(ui.color.dim(`mesh dashboard (${opts.files ? `offline from ${opts.files.join(', ')}` : 'live'}${opts.allowActions ? ', actions allowed' : ', read-only'}); Ctrl-C stops it`) + '\n');
      ui.out.write(`${running.url}\n`);
      if (opts.open && ui.interactive) openBrowser(running.url);
      await new Promise<void>((resolve) => {
        if (signal.aborted || deps.signal?.aborted) return resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
        deps.signal?.addEventListener('abort', () => resolve(), { once: true });
      });
    } finally {
      await running.stop();
    }
  }, ['SIGINT', 'SIGTERM']);
  return ExitCode.Ok;
}
