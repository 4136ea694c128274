import type { Command } from 'commander';
import type { InjectRunOptions } from './inject-run.js';
import { globalsOf, makeUi } from '../ui/context.js';
import { addFlags, INPUT_FLAGS, MESH_FLAGS, refuseGlobals, setsWithMeshNamespace, VALUES_FLAGS } from './flags.js';

/** Flags shared by inject and uninject. */
export function addInputOptions(cmd: Command): Command {
  return addFlags(cmd, INPUT_FLAGS.filename, INPUT_FLAGS.recursive)
    .option('--report [format]', 'report every resource on stderr: text (the default with --report) or json; without it, one summary line')
    .option('-q, --quiet', 'no report on stderr (errors still print)')
    .option('--in-place', 'write results back to the files (all or nothing: temporary files, then rename)');
}

/** The flags of {@link addInputOptions}, as commander parses them. */
export interface InputFlags {
  filename?: string[];
  recursive?: boolean;
  report?: string | true;
  quiet?: boolean;
  inPlace?: boolean;
}

/**
 * The action shared by inject and uninject: global flags and -o (yaml|json), the input flags, then
 * the handler (src/commands/inject-run.ts, loaded only now) with `extra` for inject's own options.
 * Sets process.exitCode; errors propagate to src/cli.ts.
 */
export async function runInjectCommand(mode: InjectRunOptions['mode'], flags: InputFlags, command: Command, extra: Partial<InjectRunOptions> = {}): Promise<void> {
  const g = globalsOf(command);
  const ui = makeUi(g);
  // Offline: the documents say their own namespaces; a -n that changed nothing would mislead.
  const offline = { why: 'it reads manifests, not a namespace (each document keeps its own metadata.namespace)', hint: `drop it; set metadata.namespace in the manifests (or "kubectl apply -n NS" the output)` };
  refuseGlobals(command, `mesh ${mode}`, { namespace: offline, allNamespaces: offline });
  const { parseOutputFormat } = await import('../ui/format.js');
  const output = parseOutputFormat(g.output, ['yaml', 'json'] as const, 'yaml');
  const { runInject } = await import('./inject-run.js');
  const base: InjectRunOptions = { mode, files: flags.filename ?? [], recursive: flags.recursive === true, report: flags.report === true ? 'text' : flags.report, verbose: g.verbose, quiet: flags.quiet === true, inPlace: flags.inPlace === true, output, valuesFiles: [], sets: [], fromCluster: false, kubeconfig: g.kubeconfig, context: g.context };
  process.exitCode = await runInject({ ...base, ...extra }, ui);
}

interface InjectFlags extends InputFlags {
  meshNamespace?: string;
  values?: string[];
  set?: string[];
  profile?: string;
  fromCluster?: boolean;
  nativeSidecar?: string;
  kubeVersion?: string;
  force?: boolean;
  explain?: string;
}

/** `mesh inject --explain REF`: would the webhook inject it, and why (src/commands/inject-explain-run.ts). */
async function runExplainCommand(opts: InjectFlags, command: Command): Promise<void> {
  const g = globalsOf(command);
  const ui = makeUi(g);
  refuseGlobals(command, 'mesh inject --explain', { allNamespaces: { why: 'it explains one workload', hint: 'name it with -n NS' } });
  if (opts.inPlace || opts.report !== undefined || opts.force) throw (await import('../errors.js')).usageError('--explain prints an explanation: drop --in-place, --report and --force');
  const { parseOutputFormat } = await import('../ui/format.js');
  const output = parseOutputFormat<'text' | 'json' | 'yaml'>(g.output, ['json', 'yaml'], 'text');
  const [{ runExplain }, { readValuesFiles, readStdin }, { currentStdin }] = await Promise.all([import('./inject-explain-run.js'), import('../cluster/values-files.js'), import('../util/cli-streams.js')]);
  const valuesFiles = await readValuesFiles(opts.values ?? [], () => readStdin(currentStdin()));
  process.exitCode = await runExplain({ ref: opts.explain!, namespace: g.namespace, files: opts.filename ?? [], recursive: opts.recursive === true, output, sets: setsWithMeshNamespace(opts.set, opts.meshNamespace) ?? [], valuesFiles, profile: opts.profile, kubeconfig: g.kubeconfig, context: g.context }, ui);
}

/** `mesh inject`: add the sidecar to workloads in YAML or JSON, offline. Handler: src/commands/inject-run.ts. */
export function define(cmd: Command): void {
  // The values flags of install, spelled the same; only --values has no -f alias here (-f is the input).
  addFlags(addInputOptions(cmd), VALUES_FLAGS.profile, VALUES_FLAGS.valuesLongOnly, VALUES_FLAGS.set, MESH_FLAGS.meshNamespace)
    .option('--from-cluster', "start from the installed mesh's values and the cluster's Kubernetes version (reads the kubeconfig)")
    .option('--native-sidecar <mode>', 'auto (on for Kubernetes >= 1.29), on or off (default: values proxy.nativeSidecar)')
    .option('--kube-version <version>', 'target Kubernetes version for --native-sidecar auto, e.g. 1.30')
    .option('--force', "inject pods that already run another mesh's sidecar (linkerd-proxy, istio-proxy, ...); skipped otherwise")
    .option('--explain <workload>', 'say whether and why the webhook would inject POD, deploy/NAME, sts/NAME, ds/NAME, job/NAME or cronjob/NAME (-n NS); live, or offline with -f')
    .addHelpText(
      'after',
      '\nOutput goes to stdout in input order; documents not injected pass through unchanged. A report goes to stderr.\n\nExamples:\n  mesh inject -f deploy.yaml | kubectl apply -f -\n  mesh inject -f k8s/ -R --kube-version 1.30 --in-place\n  kubectl get deploy web -o yaml | mesh inject -f - --from-cluster | kubectl apply -f -\n  mesh inject --explain deploy/web -n shop\n  mesh inject --explain deploy/web -n shop -f k8s/ -o yaml',
    )
    .action((opts: InjectFlags, command: Command) =>
      opts.explain !== undefined ? runExplainCommand(opts, command) : runInjectCommand('inject', opts, command, {
        valuesFiles: opts.values ?? [],
        sets: setsWithMeshNamespace(opts.set, opts.meshNamespace) ?? [],
        profile: opts.profile,
        fromCluster: opts.fromCluster === true,
        nativeSidecar: opts.nativeSidecar,
        kubeVersion: opts.kubeVersion,
        force: opts.force === true,
      }),
    );
}
