import type { Command } from 'commander';
import { globalsOf, makeUi } from '../ui/context.js';
import { usageError } from '../errors.js';
import { addFlags, addValuesFlags, MESH_FLAGS, MESH_NAMESPACE_INSTEAD, refuseGlobals, valuesSets, type RawValuesFlags } from './flags.js';

/** Validate `mesh manifest diff` arguments: two files, or --cluster and none. */
export function validateManifestDiffOptions(paths: readonly string[], cluster: boolean): void {
  if (cluster && paths.length > 0) throw usageError('mesh manifest diff --cluster takes no files', 'use either two rendered files or --cluster with values flags');
  if (!cluster && paths.length !== 2) throw usageError(`mesh manifest diff needs two files (got ${paths.length})`, 'mesh manifest diff A.yaml B.yaml, or mesh manifest diff --cluster -f values.yaml');
}

/** `mesh manifest generate|diff`. Handlers live in src/install/manifest.ts. */
export function define(cmd: Command): void {
  const gen = cmd.command('generate').description('Print the control-plane manifests for a profile and values (deterministic)');
  addFlags(addValuesFlags(gen), MESH_FLAGS.meshNamespace, MESH_FLAGS.gatewayApi, MESH_FLAGS.gatewayApiCrds)
    .option('--ca-cert <file>', 'root CA certificate (PEM) to include; with --ca-key')
    .option('--ca-key <file>', 'root CA private key (PEM)')
    .option('--generate-ca', 'generate a new root CA and include it (Secret with its key, trust bundle, webhook caBundle): output you can apply as is')
    .option('--network-policies <path>', 'instead of the control plane: Kubernetes NetworkPolicies admitting at L4 what the AuthorizationPolicies in these manifests allow (repeatable; docs/authz.md)', (v: string, prev: string[] = []) => [...prev, v])
    .option('--dashboards <dir>', 'write the mesh Grafana dashboards as JSON files into DIR (created if missing) instead of printing manifests')
    .addHelpText('after', '\nWithout --ca-cert/--ca-key or --generate-ca the root CA Secret, trust bundle and webhook caBundle are left out\n(stderr says so) and the output is the same on every run.\n\nExamples:\n  mesh manifest generate --profile ha > mesh.yaml\n  mesh manifest generate --generate-ca | kubectl apply --server-side -f -\n  mesh manifest generate -f values.yaml --set controller.replicas=2 -o json\n  mesh manifest generate --addons prometheus,grafana,jaeger > mesh.yaml\n  mesh manifest generate --dashboards ./grafana-dashboards')
    .action(async (opts: RawValuesFlags & { caCert?: string; caKey?: string; gatewayApi?: boolean; gatewayApiCrds?: string; generateCa?: boolean; meshNamespace?: string; dashboards?: string; networkPolicies?: string[] }, command: Command) => {
      const g = globalsOf(command);
      refuseGlobals(command, 'mesh manifest generate', { namespace: MESH_NAMESPACE_INSTEAD, allNamespaces: MESH_NAMESPACE_INSTEAD });
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['yaml', 'json', 'name'] as const, 'yaml');
      const { runManifestGenerate, runWriteDashboards } = await import('../install/manifest.js');
      if (opts.dashboards !== undefined) {
        process.exitCode = await runWriteDashboards(opts.dashboards, ui);
        return;
      }
      process.exitCode = await runManifestGenerate({ profile: opts.profile, files: opts.values, sets: await valuesSets(opts, opts.meshNamespace), caCert: opts.caCert, caKey: opts.caKey, gatewayApi: opts.gatewayApi === true || Boolean(opts.gatewayApiCrds), gatewayApiCrds: opts.gatewayApiCrds, generateCa: opts.generateCa === true, networkPolicies: opts.networkPolicies, output }, ui);
    });

  const images = cmd.command('images').description('List every image mesh can deploy (control plane, proxy, init container), after global.registry: what an air-gapped mirror needs');
  addValuesFlags(images)
    .addHelpText('after', '\nDIGEST is the sha256 a reference pins ("-": not pinned; pin with --set proxy.image=IMAGE@sha256:...).\n\nExamples:\n  mesh manifest images\n  mesh manifest images --set global.registry=registry.corp:5000/mesh -o json')
    .action(async (opts: RawValuesFlags, command: Command) => {
      const g = globalsOf(command);
      const noNs = { why: 'the images mesh deploys do not depend on a namespace', hint: 'drop the flag' };
      refuseGlobals(command, 'mesh manifest images', { namespace: noNs, allNamespaces: noNs });
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['table', 'json', 'yaml'] as const, 'table');
      const { runManifestImages } = await import('../install/manifest.js');
      process.exitCode = await runManifestImages({ profile: opts.profile, files: opts.values, sets: opts.set, output }, ui);
    });

  const diff = cmd.command('diff').description('Show what differs between two renderings, or between a rendering and the cluster (exit 1 when they differ)');
  addFlags(addValuesFlags(diff), MESH_FLAGS.meshNamespace)
    .argument('[files...]', 'two rendered manifests: A.yaml B.yaml')
    .option('--cluster', 'compare the rendering of the values flags with the live cluster')
    .addHelpText('after', '\nExamples:\n  mesh manifest diff old.yaml new.yaml\n  mesh manifest diff --cluster --profile ha')
    .action(async (files: string[], opts: RawValuesFlags & { cluster?: boolean; meshNamespace?: string }, command: Command) => {
      const g = globalsOf(command);
      refuseGlobals(command, 'mesh manifest diff', { namespace: MESH_NAMESPACE_INSTEAD, allNamespaces: MESH_NAMESPACE_INSTEAD });
      const ui = makeUi(g);
      const { parseOutputFormat } = await import('../ui/format.js');
      const output = parseOutputFormat(g.output, ['table', 'json', 'yaml'] as const, 'table');
      validateManifestDiffOptions(files, opts.cluster === true);
      const { runManifestDiff } = await import('../install/manifest.js');
      process.exitCode = await runManifestDiff({ paths: files, cluster: opts.cluster === true, profile: opts.profile, files: opts.values, sets: await valuesSets(opts, opts.meshNamespace), kubeconfig: g.kubeconfig, context: g.context, output }, ui);
    });
}
