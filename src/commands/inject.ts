import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';

const collect = (v: string, prev: string[]): string[] => [...prev, v];

/** Flags shared by inject and uninject. */
export function addInputOptions(cmd: Command): Command {
  return cmd
    .option('-f, --filename <path>', 'file, directory, https URL or - for stdin (repeatable)', collect, [])
    .option('-R, --recursive', 'descend into subdirectories of directories given with -f')
    .option('--report <format>', 'report on stderr: text or json', 'text')
    .option('--in-place', 'write results back to the files (all or nothing: temporary files, then rename)');
}

interface InjectFlags {
  filename: string[];
  recursive?: boolean;
  report: string;
  inPlace?: boolean;
  values: string[];
  set: string[];
  profile?: string;
  fromCluster?: boolean;
  nativeSidecar?: string;
  kubeVersion?: string;
}

/** `mesh inject`: add the sidecar to workloads in YAML or JSON, offline. Handler: src/manifests/inject-run.ts. */
export function define(cmd: Command): void {
  addInputOptions(cmd)
    .option('--values <file>', 'values file, as for install (repeatable, applied in order)', collect, [])
    .option('--set <key=value>', 'set a value, as for install (repeatable, applied last)', collect, [])
    .option('--profile <name>', 'values profile: default, minimal, demo, ha')
    .option('--from-cluster', "start from the installed mesh's values and the cluster's Kubernetes version (reads the kubeconfig)")
    .option('--native-sidecar <mode>', 'auto (on for Kubernetes >= 1.29), on or off (default: values proxy.nativeSidecar)')
    .option('--kube-version <version>', 'target Kubernetes version for --native-sidecar auto, e.g. 1.30')
    .addHelpText(
      'after',
      '\nOutput goes to stdout in input order; documents not injected pass through unchanged. A report goes to stderr.\n\nExamples:\n  mesh inject -f deploy.yaml | kubectl apply -f -\n  mesh inject -f k8s/ -R --kube-version 1.30 --in-place\n  kubectl get deploy web -o yaml | mesh inject -f - --from-cluster | kubectl apply -f -',
    )
    .action(async (opts: InjectFlags, command: Command) => {
      const g = globalsOf(command);
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['yaml', 'json'] as const, 'yaml');
      const { runInject } = await import('../manifests/inject-run.js');
      process.exitCode = await runInject(
        {
          mode: 'inject',
          files: opts.filename,
          recursive: opts.recursive === true,
          valuesFiles: opts.values,
          sets: opts.set,
          profile: opts.profile,
          fromCluster: opts.fromCluster === true,
          nativeSidecar: opts.nativeSidecar,
          kubeVersion: opts.kubeVersion,
          output,
          report: opts.report,
          inPlace: opts.inPlace === true,
          kubeconfig: g.kubeconfig,
          context: g.context,
        },
        ui,
      );
    });
}
