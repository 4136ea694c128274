import type { Command } from 'commander';
import { globalsOf, makeUi, type GlobalOptions } from '../ui/context.js';
import type { Source } from '../cluster/source.js';
import type { InstalledAuthzValues } from '../status/authz.js';
import { INPUT_FLAGS, MESH_FLAGS, refuseGlobals } from './flags.js';

/** The objects' source: -f files, else the live cluster; and, live, the installed values authz reads. */
async function authzSource(g: GlobalOptions, files: string[] | undefined, meshNamespace: string | undefined): Promise<{ source: Source; namespace: string; values?: () => Promise<InstalledAuthzValues> }> {
  if (files?.length) {
    const { FilesSource } = await import('../cluster/files-source.js');
    return { source: new FilesSource(files, { watchFiles: false }), namespace: g.namespace ?? 'default' };
  }
  const [{ connect }, { KubernetesSource }, { readState }, { DEFAULT_NAMESPACE }] = await Promise.all([import('../cluster/index.js'), import('../cluster/live-source.js'), import('../install/state.js'), import('../constants.js')]);
  const cluster = await connect({ kubeconfig: g.kubeconfig, context: g.context });
  return {
    source: new KubernetesSource({ cluster }),
    namespace: g.namespace ?? cluster.defaultNamespace ?? 'default',
    // No mesh-config (not installed, or not readable): the defaults (trust domain cluster.local, no default deny).
    values: async () => {
      const state = await readState(cluster, meshNamespace ?? DEFAULT_NAMESPACE).catch(() => undefined);
      return state ? { trustDomain: state.values.trustDomain, defaultDeny: state.values.authorization?.defaultDeny === true, defaultMtls: state.values.mtls.mode } : {};
    },
  };
}

/** `mesh authz check FROM TO` and `mesh authz list WORKLOAD`: authorization explained. Handlers: src/status/authz.ts. */
export function define(cmd: Command): void {
  cmd.description('Explain authorization: may FROM call TO, and which policy decides (see docs/authz.md)');

  cmd
    .command('check')
    .description('Say ALLOW or DENY for a call from FROM to TO and which policy and rule decided (exit 0 allow, 1 deny)')
    .argument('[from]', 'the caller: deploy/NAME, sts/NAME, ds/NAME, pod/NAME (or NAME), sa/NAME, a SPIFFE ID, or "unauthenticated"')
    .argument('[to]', 'the callee: deploy/NAME, sts/NAME, ds/NAME, pod/NAME (or NAME), svc/NAME, sa/NAME or a SPIFFE ID')
    .option('--port <port>', 'port called: a port of the callee pod or of a Service selecting it (default: every port a Service exposes)')
    .option('--method <method>', 'HTTP method on HTTP ports (default GET)')
    .option('--path <path>', 'HTTP path on HTTP ports (default /)')
    .option('--from-namespace <ns>', 'namespace of FROM when it is not the one of -n')
    .option('--default-deny', 'with -f: as if the values set authorization.defaultDeny (live, the installed values say)')
    .option('--trust-domain <domain>', 'SPIFFE trust domain (default: the installed values\', else cluster.local)')
    .addOption(INPUT_FLAGS.filename())
    .addOption(MESH_FLAGS.meshNamespace())
    .addHelpText('after', '\nExit status: 0 when every answer is ALLOW, 1 when one is DENY (as kubectl auth can-i), 2 for bad input.\nExamples:\n  mesh authz check deploy/web deploy/api -n shop --port 8080 --path /orders\n  mesh authz check sa/web svc/api -n shop -f ./k8s/   # offline\n  mesh authz check spiffe://cluster.local/ns/ops/sa/admin deploy/api -n shop -o json')
    .action(async (from: string | undefined, to: string | undefined, opts: { port?: string; method?: string; path?: string; fromNamespace?: string; defaultDeny?: boolean; trustDomain?: string; filename?: string[]; meshNamespace?: string }, command: Command) => {
      const g = globalsOf(command);
      refuseGlobals(command, 'mesh authz check', { allNamespaces: { why: 'it answers for one caller and one callee', hint: 'use -n NAMESPACE (and --from-namespace for a caller elsewhere)' } });
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['table', 'json', 'yaml'] as const, 'table');
      const authz = await import('../status/authz.js');
      const options = authz.validateAuthzCheckOptions({ from, to, namespace: g.namespace, fromNamespace: opts.fromNamespace, port: opts.port, method: opts.method, path: opts.path, files: opts.filename, defaultDeny: opts.defaultDeny, trustDomain: opts.trustDomain, meshNamespace: opts.meshNamespace, output });
      const { source, namespace, values } = await authzSource(g, options.files, opts.meshNamespace);
      const input = await authz.loadAuthzInput(source, { namespace, trustDomain: options.trustDomain, defaultDeny: options.defaultDeny, values });
      process.exitCode = authz.printCheck(authz.checkAuthz(input, options), output, ui);
    });

  cmd
    .command('list')
    .description('Show the policies of WORKLOAD, which identities may call it, and what it may call')
    .argument('[workload]', 'deploy/NAME, sts/NAME, ds/NAME, pod/NAME (or NAME), sa/NAME or a SPIFFE ID')
    .option('--default-deny', 'with -f: as if the values set authorization.defaultDeny (live, the installed values say)')
    .option('--trust-domain <domain>', 'SPIFFE trust domain (default: the installed values\', else cluster.local)')
    .addOption(INPUT_FLAGS.filename())
    .addOption(MESH_FLAGS.meshNamespace())
    .addHelpText('after', '\nCallers are every identity in the input and "unauthenticated"; HTTP ports are asked with GET / (use mesh authz check --path --method for others).\nExamples:\n  mesh authz list deploy/api -n shop\n  mesh authz list deploy/api -n shop -f ./k8s/ -o yaml')
    .action(async (workload: string | undefined, opts: { defaultDeny?: boolean; trustDomain?: string; filename?: string[]; meshNamespace?: string }, command: Command) => {
      const g = globalsOf(command);
      refuseGlobals(command, 'mesh authz list', { allNamespaces: { why: 'it shows one workload', hint: 'use -n NAMESPACE' } });
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['table', 'json', 'yaml'] as const, 'table');
      const { usageError } = await import('../errors.js');
      if (!workload) throw usageError('name the workload: mesh authz list WORKLOAD', 'e.g. mesh authz list deploy/api -n shop');
      if (opts.defaultDeny && !opts.filename?.length) throw usageError('--default-deny only applies with -f', 'live, the mesh-wide default is read from the installed values (authorization.defaultDeny)');
      const authz = await import('../status/authz.js');
      const ref = authz.parseParty(workload, 'TO');
      const { source, namespace, values } = await authzSource(g, opts.filename, opts.meshNamespace);
      const input = await authz.loadAuthzInput(source, { namespace, trustDomain: opts.trustDomain, defaultDeny: opts.defaultDeny, values });
      process.exitCode = authz.printList(authz.listAuthz(input, ref, namespace), output, ui);
    });
}
