import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';
import { addFlags, collect, INPUT_FLAGS, MESH_FLAGS, refuseGlobals } from './flags.js';

/** `mesh check`: health checks (live, --pre) and policy analysis (live or -f files). */
export function define(cmd: Command): void {
  cmd.option('--pre', 'check that the cluster is ready for "mesh install" (no mesh needed)');
  addFlags(cmd, INPUT_FLAGS.filename, INPUT_FLAGS.recursive)
    .option('--suppress <CODE=kind/ns/name>', 'ignore a finding code on matching objects (* wildcards); repeatable', collect)
    .option('--output-threshold <severity>', 'hide findings below: info|warning|error', 'info')
    .option('--fail-on <severity>', 'exit 1 on failures of this severity or worse: warning|error', 'error')
    .option('--wait <duration>', 'retry until healthy or the duration passes (e.g. 5m)')
    .option('--dns-probe', 'also resolve meshed Services from inside the cluster with a short-lived lookup pod (deleted afterwards); without it check only reads')
    .option('--timeout <duration>', 'time budget of each check (default 20s)')
    .addOption(MESH_FLAGS.meshNamespace())
    .addHelpText(
      'after',
      [
        '',
        'With -f, the manifests are analyzed instead of a cluster (no cluster needed).',
        'Output (-o): table (default), json, yaml, junit, sarif. The exit code is the same for every format:',
        '  0 healthy, 1 a check failed or a finding reached --fail-on, 2 bad input, 3 no check could reach the cluster.',
        '',
        'Examples:',
        '  mesh check --pre',
        '  mesh check --wait 5m',
        '  mesh check -f k8s/ -R -o sarif > mesh.sarif',
        '  mesh check -f k8s/ --suppress "MSH0011=*/*/*" --output-threshold warning',
        '',
        'Every check and finding code is described in docs/checks.md.',
      ].join('\n'),
    )
    .action(async (flags: Record<string, unknown>, command: Command) => {
      const g = globalsOf(command);
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const { CHECK_OUTPUT_FORMATS } = await import('../checks/options.js');
      const output = parseOutputFormat(g.output, CHECK_OUTPUT_FORMATS, 'table');
      const { validateCheckOptions } = await import('../checks/options.js');
      const { runCheck, renderUsageErrorReport } = await import('./check-run.js');
      let opts;
      try {
        // -n would not narrow anything: -f documents keep their own namespaces, a live run checks the whole mesh.
        const files = flags.filename !== undefined;
        const no = files
          ? { why: 'with -f it analyzes the manifests given, each document keeping its own namespace', hint: 'drop -n; set metadata.namespace in the manifests' }
          : { why: 'it checks the whole mesh, in every namespace', hint: "drop it; the mesh's own namespace is --mesh-namespace NS" };
        refuseGlobals(command, files ? 'mesh check -f' : 'mesh check', { namespace: no, allNamespaces: no });
        opts = validateCheckOptions({
          pre: flags.pre === true,
          filename: flags.filename as string[] | undefined,
          recursive: flags.recursive === true,
          suppress: flags.suppress as string[] | undefined,
          outputThreshold: flags.outputThreshold as string | undefined,
          failOn: flags.failOn as string | undefined,
          wait: flags.wait as string | undefined,
          timeout: flags.timeout as string | undefined,
          meshNamespace: flags.meshNamespace as string | undefined,
          dnsProbe: flags.dnsProbe === true,
          output,
          kubeconfig: g.kubeconfig,
          context: g.context,
        });
      } catch (err) {
        // Machine formats still get exactly one document; the error itself goes to stderr via cli.ts.
        const { toMeshError } = await import('../errors.js');
        renderUsageErrorReport(output, toMeshError(err), ui);
        if (output !== 'table') (await import('../ui/errors.js')).markReportedOnStdout(err);
        throw err;
      }
      process.exitCode = await runCheck(opts, ui);
    });
}
