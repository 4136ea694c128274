import type { KubeObject } from '../cluster/types.js';
import { splitWeights } from '../route/httproute.js';
import type { CanaryOptions } from '../route/options.js';
import { formatDuration } from '../duration.js';
import type { GateReading } from '../route/rollout.js';
import { canaryRoute, finishRoute, routeStatus, setRoute, showRoute, type Emit, type RouteCommon, type RouteDeps, type RouteEvent, type RouteOutput, type StatusReport } from '../route/run.js';
import type { Ui } from '../ui/context.js';
import { renderData, renderTable } from '../ui/output.js';
import { startProgress, type Progress } from '../ui/progress.js';

/**
 * The printing side of `mesh route`: runs an operation of src/route/run.ts and writes its events to
 * the Ui (data to stdout, progress and diagnostics to stderr). Each run* returns the exit code.
 */

function round(n: number): number {
  return Math.round(n * 100) / 100;
}

function describeReading(r: GateReading): string {
  const bits: string[] = [];
  if (r.rps !== undefined) bits.push(`${round(r.rps)} rps`);
  if (r.successRate !== undefined) bits.push(`${round((1 - r.successRate) * 100)}% errors`);
  if (r.p99Ms !== undefined) bits.push(`p99 ${Math.round(r.p99Ms)}ms`);
  const s = bits.length ? ` (${bits.join(', ')})` : '';
  return r.failures.length ? `${s}: ${r.failures.join('; ')}` : s;
}

const weightsText = (weights: StatusReport['weights']) => weights.map((w) => `${w.name} ${w.percent}%`).join(', ');

function statusLine(r: StatusReport, color: Ui['color']): string {
  const paint = r.phase === 'Promoted' ? color.green : r.phase === 'Progressing' ? color.cyan : r.phase === 'None' || r.phase === 'Paused' ? color.yellow : color.red;
  const step = r.step !== undefined && r.steps ? ` step ${r.step}/${r.steps.length}` : '';
  return `${paint(r.phase)}${step}  ${weightsText(r.weights)}  ${r.message}`;
}

function renderStatusTable(r: StatusReport): string {
  const lines = [`Route:    ${r.namespace}/${r.route}`, `Phase:    ${r.phase}`];
  if (r.steps && r.step !== undefined) lines.push(`Step:     ${r.step}/${r.steps.length} (steps ${r.steps.join(', ')}%)`);
  lines.push(`Weights:  ${weightsText(r.weights) || '(none)'}`);
  if (r.reading) {
    const g = r.reading;
    const bits = [g.rps !== undefined ? `${round(g.rps)} rps` : undefined, g.successRate !== undefined ? `success ${round(g.successRate * 100)}%` : undefined, g.p99Ms !== undefined ? `p99 ${Math.round(g.p99Ms)}ms` : undefined].filter(Boolean);
    lines.push(`Gates:    ${g.ok ? 'passed' : 'failed'} at ${g.at} (${g.weight}%)${bits.length ? `: ${bits.join(', ')}` : ''}${g.failures.length ? ` - ${g.failures.join('; ')}` : ''}`);
  }
  lines.push(`Message:  ${r.message}`);
  if (r.updatedAt) lines.push(`Updated:  ${r.updatedAt}`);
  return lines.join('\n') + '\n';
}

/** A written (or dry-run) route: the object as data with -o json|yaml, else one summary line. */
function printRoute(ui: Ui, route: KubeObject, output: RouteOutput, verb: string, dryRun: boolean): void {
  if (output !== 'table' || dryRun) {
    ui.out.write(renderData(route, output === 'json' ? 'json' : 'yaml'));
    if (dryRun) ui.err.write(`dry run: HTTPRoute ${route.metadata.namespace ?? ''}/${route.metadata.name} not ${verb}\n`);
    return;
  }
  ui.out.write(`httproute/${route.metadata.name} ${verb} in ${route.metadata.namespace}: ${weightsText(splitWeights(route))}\n`);
}

/** An Emit that prints each event to `ui` in `output`'s format; one progress line per rollout step. */
export function routePrinter(ui: Ui, output: RouteOutput): Emit {
  // A finished spinner is not redrawn, so each step starts its own.
  let progress: Progress | undefined;
  const endStep = (ok: boolean, text: string) => {
    if (ok) progress?.succeed(text);
    else progress?.fail(text);
    progress = undefined;
  };
  return (e: RouteEvent) => {
    switch (e.type) {
      case 'warning':
      case 'note':
        ui.err.write(`${e.type}: ${e.message}\n`);
        return;
      case 'route':
        printRoute(ui, e.route, output, e.verb, e.dryRun);
        return;
      case 'rollout-planned':
        ui.err.write(`dry run: the rollout would start at step ${e.step}/${e.steps} (${e.weight}%) and advance every ${formatDuration(e.intervalMs)}\n`);
        return;
      case 'rollout-resumed':
        ui.err.write(`resuming the rollout of ${e.canary} at step ${e.step}/${e.steps} (${e.weight}%)\n`);
        return;
      case 'step-started': {
        // A CI log gets a line now saying when the next one comes, instead of an interval of silence.
        const at = `${e.judgeAt.slice(11, 19)} UTC`;
        if (!ui.interactive) ui.err.write(`${e.label}: waiting for next step at ${at} (gates judged every ${formatDuration(e.intervalMs)})\n`);
        progress = startProgress(ui.err, `${e.label}, checking at ${at}`, { interactive: ui.interactive });
        return;
      }
      case 'step-judged':
        endStep(e.reading.ok, `${e.label}: ${e.reading.ok ? 'healthy' : 'unhealthy'}${describeReading(e.reading)}`);
        return;
      case 'step-failed':
        endStep(false, `${e.label}: ${e.why}`);
        return;
      case 'paused':
        ui.err.write(`route left at ${e.weight}% to ${e.canary}, ${100 - e.weight}% to ${e.stable} (phase Paused). Run the same command to resume, or "mesh route promote|rollback ${e.service}".\n`);
        return;
      case 'pause-not-recorded':
        ui.err.write(`route left at ${e.weight}% to ${e.canary} as last written; recording the pause failed: ${e.error}\n`);
        return;
      case 'changed-by-other':
        ui.err.write(`the route was changed by someone else, so the rollout stopped without overwriting it; it now says: ${e.phase ? `${e.phase}, ` : ''}${e.weights}.\n`);
        return;
      case 'write-failed':
        ui.err.write(`route left at ${e.weight}% to ${e.canary} as last written (phase ${e.phase} recorded; "mesh route status" reports it Degraded once stale): the API server did not take the write.\n`);
        return;
      case 'promoted':
        ui.err.write(`${ui.color.green('promoted')}: all traffic to ${e.canary}\n`);
        return;
      case 'rolled-back':
        ui.err.write(`${ui.color.red('rolled back')}: all traffic to ${e.stable} (${e.reason})\n`);
        return;
      case 'rollout-finished':
        if (output !== 'table') ui.out.write(renderData(e.report, output));
        else ui.out.write(`httproute/${e.report.route} ${e.report.phase} in ${e.report.namespace}: ${weightsText(e.report.weights)}\n`);
        return;
      case 'status':
        if (!e.watching) ui.out.write(output !== 'table' ? renderData(e.report, output) : renderStatusTable(e.report));
        else if (output === 'table') ui.out.write(statusLine(e.report, ui.color) + '\n');
        else if (output === 'json') ui.out.write(JSON.stringify(e.report) + '\n');
        else ui.out.write('---\n' + renderData(e.report, 'yaml'));
        return;
      case 'watch-stopped':
        if (e.reason === 'no-rollout') ui.err.write(`no rollout recorded on ${e.route}: nothing to wait for\n`);
        else if (e.reason === 'timeout') ui.err.write(`still ${e.phase} after ${formatDuration(e.timeoutMs ?? 0)}; giving up\n`);
        else ui.err.write(`${e.route} was deleted\n`);
        return;
      case 'show':
        printShow(ui, e.report, output);
        return;
    }
  };
}

function printShow(ui: Ui, report: Extract<RouteEvent, { type: 'show' }>['report'], output: RouteOutput): void {
  if (output !== 'table') {
    ui.out.write(renderData(report, output));
    return;
  }
  const rows = report.rules.flatMap((r, i) => r.backends.map((b, j) => ({ rule: j === 0 ? String(i + 1) : '', match: j === 0 ? r.match : '', b, r, stats: report.backends.find((x) => x.name === b.name) })));
  ui.out.write(
    renderTable(rows, [
      { header: 'Rule', value: (x) => x.rule },
      { header: 'Match', value: (x) => x.match },
      { header: 'Backend', value: (x) => `${x.b.name}${x.b.port ? `:${x.b.port}` : ''}` },
      { header: 'Weight', value: (x) => x.b.weight },
      { header: 'RPS', value: (x) => (x.stats?.rps !== undefined ? round(x.stats.rps) : '-') },
      { header: 'Success', value: (x) => (x.stats?.successRate !== undefined ? `${round(x.stats.successRate * 100)}%` : '-') },
      { header: 'P99', value: (x) => (x.stats?.p99Ms !== undefined ? `${Math.round(x.stats.p99Ms)}ms` : '-') },
      { header: 'Timeout', value: (x) => x.r.timeout ?? '-' },
      { header: 'Mirror', value: (x) => x.r.mirror ?? '-' },
    ], { emptyMessage: 'The route has no rules.' }),
  );
  if (report.retry) ui.out.write(`retry: ${JSON.stringify(report.retry)}\n`);
  if (report.fault) ui.out.write(`fault: ${JSON.stringify(report.fault)}\n`);
  if (report.rollout) ui.out.write(`rollout: ${statusLine(report.rollout, ui.color)}\n`);
  if (report.metrics.startsWith('metrics unavailable')) ui.err.write(`${report.metrics}\n`);
}

/** `mesh route canary`: see canaryRoute; prints as it goes. */
export function runCanary(opts: CanaryOptions & RouteCommon, ui: Ui, deps: RouteDeps): Promise<number> {
  return canaryRoute(opts, deps, routePrinter(ui, opts.output));
}

/** `mesh route set`: see setRoute. */
export function runSet(opts: Parameters<typeof setRoute>[0], ui: Ui, deps: RouteDeps): Promise<number> {
  return setRoute(opts, deps, routePrinter(ui, opts.output));
}

/** `mesh route promote|rollback`: see finishRoute. */
export function runFinish(which: 'promote' | 'rollback', opts: Parameters<typeof finishRoute>[1], ui: Ui, deps: RouteDeps): Promise<number> {
  return finishRoute(which, opts, deps, routePrinter(ui, opts.output));
}

/** `mesh route status [--watch]`: see routeStatus. */
export function runStatus(opts: Parameters<typeof routeStatus>[0], ui: Ui, deps: RouteDeps): Promise<number> {
  return routeStatus(opts, deps, routePrinter(ui, opts.output));
}

/** `mesh route show`: see showRoute. */
export function runShow(opts: Parameters<typeof showRoute>[0], ui: Ui, deps: RouteDeps): Promise<number> {
  return showRoute(opts, deps, routePrinter(ui, opts.output));
}
