import type { Ui } from '../ui/context.js';
import { ExitCode } from '../errors.js';
import type { PodRead, TimedReading } from '../metrics/scrape.js';
import type { StatOptions } from '../status/stat.js';
import { KubernetesSource } from '../cluster/live-source.js';
import { collectStat, defaultSleep, listStat, type StatDeps } from '../status/stat-fetch.js';
import { refText } from '../status/workloads.js';
import { renderStatTable } from '../ui/render/stat.js';

/**
 * Run `mesh stat`: plan rows, read the proxies (two pod scrapes or two Prometheus instants),
 * print. With -w, refresh until `deps.signal` aborts (or `maxRefreshes`). Returns the exit code.
 * `settled`, when given, is `options` once the caller knows where to read from (the installed
 * mesh's Prometheus, looked up meanwhile): it may change only how the readings are taken, not
 * what is listed, so the first refresh lists the workloads while it settles.
 */
export async function runStat(options: StatOptions, ui: Ui, deps: StatDeps, settled?: Promise<StatOptions>): Promise<number> {
  const scope = (o: StatOptions): StatOptions => ({ ...o, namespace: o.allNamespaces ? undefined : (o.namespace ?? deps.cluster.defaultNamespace ?? 'default') });
  let opts = scope(options);
  let listed = settled ? listStat(opts, deps.source ?? new KubernetesSource({ cluster: deps.cluster })) : undefined;
  // The printer's modules load while the lists are in flight (the CPU waits on the network then),
  // not after the last scrape, where their loading would add to the command's time.
  void (opts.output === 'table' || opts.output === 'wide' ? import('../ui/table.js') : import('../ui/output.js')).catch(() => undefined);
  if (settled) {
    // The options' error (a bad configured URL) comes first, as when they were settled before listing.
    listed!.catch(() => undefined);
    opts = scope(await settled);
  }
  const sleep = deps.sleep ?? defaultSleep;
  let prev: Map<string, PodRead | TimedReading> | undefined;
  for (let i = 0; ; i++) {
    const { report, last } = await collectStat(opts, deps, opts.source === 'pods' ? prev : undefined, listed);
    listed = undefined;
    prev = last;
    if (opts.output === 'json' || opts.output === 'yaml') {
      // With -w each refresh is one more document: JSON objects one after another, YAML with '---'.
      if (opts.output === 'yaml' && i > 0) ui.out.write('---\n');
      const { renderData } = await import('../ui/output.js');
      ui.out.write(renderData(report, opts.output));
    } else {
      const table = await renderStatTable(report, { wide: opts.output === 'wide', allNamespaces: opts.namespace === undefined });
      if (opts.watch && (ui.out as { isTTY?: boolean }).isTTY) ui.out.write('\x1b[H\x1b[2J');
      else if (opts.watch && i > 0) ui.out.write('\n');
      ui.out.write(table);
    }
    if (i === 0 || opts.watch) {
      const peer = opts.to ? `, traffic sent to ${refText(opts.to)}` : opts.from ? `, traffic received from ${refText(opts.from)}` : '';
      if (i === 0) ui.err.write(ui.color.dim(`method: ${report.method.description}${peer}`) + '\n');
      for (const w of report.warnings) ui.err.write(ui.color.yellow(`warning: ${w}`) + '\n');
    }
    if (!opts.watch || deps.signal?.aborted || (deps.maxRefreshes !== undefined && i + 1 >= deps.maxRefreshes)) break;
    await sleep(opts.sampleSeconds * 1000, deps.signal);
    if (deps.signal?.aborted) break;
  }
  return ExitCode.Ok;
}
