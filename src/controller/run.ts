import type { Ui } from '../ui/context.js';
import { usageError } from '../ui/errors.js';
import type { MtlsMode } from '../model/types.js';
import { ControlPlane, type ObjectSource } from './controlplane.js';
import { startIntrospection } from './http.js';

/** Options of `mesh controller`, parsed. */
export interface ControllerOptions {
  source: 'files' | 'kubernetes';
  /** Manifest files or directories (files source). */
  paths: string[];
  address: string;
  xdsPort: number;
  metricsPort: number;
  debounceMs: number;
  trustDomain?: string;
  defaultMtls?: MtlsMode;
  kubeconfig?: string;
  context?: string;
}

/** Raw flag values as commander hands them over. */
export interface RawControllerOptions {
  source?: string;
  paths: string[];
  address?: string;
  xdsPort?: string;
  metricsPort?: string;
  debounce?: string;
  trustDomain?: string;
  defaultMtls?: string;
}

function port(flag: string, v: string | undefined, dflt: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw usageError(`${flag} ${v}: not a port number`, `give 0-65535 (0 picks a free port), e.g. ${flag} ${dflt}`);
  return n;
}

/** Validate and normalise `mesh controller` flags (pure; throws usage errors, exit 2). */
export function validateControllerOptions(raw: RawControllerOptions, defaults: { xdsPort: number; metricsPort: number }): ControllerOptions {
  const source = raw.source ?? (raw.paths.length ? 'files' : 'kubernetes');
  if (source !== 'files' && source !== 'kubernetes') throw usageError(`--source ${source}: unknown source`, 'use --source files DIR or --source kubernetes');
  if (source === 'files' && !raw.paths.length) throw usageError('--source files needs a file or directory of manifests', 'e.g. mesh controller --source files ./k8s');
  if (source === 'kubernetes' && raw.paths.length) throw usageError(`--source kubernetes takes no paths (got ${raw.paths.join(' ')})`, 'drop the paths, or use --source files');
  const debounceMs = raw.debounce === undefined ? 100 : Number(raw.debounce);
  if (!Number.isFinite(debounceMs) || debounceMs < 0) throw usageError(`--debounce ${raw.debounce}: not a number of milliseconds`, 'e.g. --debounce 100');
  const mtls = raw.defaultMtls?.toUpperCase();
  if (mtls !== undefined && mtls !== 'STRICT' && mtls !== 'PERMISSIVE' && mtls !== 'DISABLE') throw usageError(`--default-mtls ${raw.defaultMtls}: unknown mode`, 'use STRICT, PERMISSIVE or DISABLE');
  const opts: ControllerOptions = {
    source,
    paths: raw.paths,
    address: raw.address ?? '0.0.0.0',
    xdsPort: port('--xds-port', raw.xdsPort, defaults.xdsPort),
    metricsPort: port('--metrics-port', raw.metricsPort, defaults.metricsPort),
    debounceMs,
  };
  if (raw.trustDomain) opts.trustDomain = raw.trustDomain;
  if (mtls) opts.defaultMtls = mtls;
  return opts;
}

/**
 * Run the control plane until SIGINT/SIGTERM: the source, ADS on --xds-port and the introspection
 * server on --metrics-port. SIGHUP reloads a files source. Resolves to the exit code.
 */
export async function runController(opts: ControllerOptions, ui: Ui, signals: NodeJS.EventEmitter = process): Promise<number> {
  const log = (line: string): void => {
    ui.err.write(`${new Date().toISOString()} ${line}\n`);
  };
  let source: ObjectSource;
  let reload: (() => Promise<void>) | undefined;
  if (opts.source === 'files') {
    const { FilesSource } = await import('./files-source.js');
    const fs = new FilesSource(opts.paths);
    source = fs;
    reload = () => fs.reload();
  } else {
    const { KubernetesSource } = await import('./kube-source.js');
    source = new KubernetesSource({ kubeconfig: opts.kubeconfig, context: opts.context }, log);
  }
  const cp = new ControlPlane({
    source,
    debounceMs: opts.debounceMs,
    model: { trustDomain: opts.trustDomain, defaultMtls: opts.defaultMtls },
    log,
  });
  cp.metrics.withProcessMetrics();
  const http = await startIntrospection(cp, { host: opts.address, port: opts.metricsPort });
  log(`introspection listening on ${opts.address}:${http.port} (/metrics, /debug/syncz, /debug/config_dump, /healthz, /readyz)`);
  let xdsPort: number;
  try {
    xdsPort = await cp.start({ host: opts.address, port: opts.xdsPort });
  } catch (err) {
    http.server.close();
    await cp.stop();
    throw err;
  }
  const model = cp.currentModel();
  log(`ADS listening on ${opts.address}:${xdsPort}; source ${source.description}: ${model?.services.length ?? 0} services, ${model?.routes.length ?? 0} routes`);
  return new Promise<number>((resolve) => {
    const onHup = (): void => {
      log('SIGHUP: reloading the source');
      void reload?.();
    };
    const stop = (sig: string): void => {
      log(`${sig}: shutting down`);
      signals.off('SIGHUP', onHup);
      signals.off('SIGINT', onInt);
      signals.off('SIGTERM', onTerm);
      http.server.close();
      http.server.closeAllConnections();
      void cp.stop().then(() => resolve(0));
    };
    const onInt = (): void => stop('SIGINT');
    const onTerm = (): void => stop('SIGTERM');
    signals.on('SIGHUP', onHup);
    signals.on('SIGINT', onInt);
    signals.on('SIGTERM', onTerm);
  });
}
