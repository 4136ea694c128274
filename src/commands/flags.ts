import { Option, type Command } from 'commander';
import { DEFAULT_NAMESPACE } from '../constants.js';
import { usageError } from '../errors.js';

/**
 * The flags several commands share, each spelled and described once (as linkerd's
 * cli/cmd/options.go does), so `mesh X --help` and `mesh Y --help` never disagree about what
 * `-f` or `--set` means. A command adds a set with the helpers below instead of declaring the
 * flag itself; test/cli/flags.test.ts walks every command and fails on a flag that drifted.
 */

/** Commander parser for a flag that may be given several times: values collect in order. */
export const collect = (value: string, previous: string[] = []): string[] => [...previous, value];

/** A fresh Option each call: commander keeps per-command state (defaults, parsed values) on it. */
type OptionFactory = () => Option;

/**
 * Global flags, declared on the root program only (kubectl style: `mesh -n shop stat` and
 * `mesh stat -n shop` both work). Subcommands read them with `globalsOf`.
 */
export const GLOBAL_FLAGS = {
  kubeconfig: () => new Option('--kubeconfig <path>', 'path to the kubeconfig file (default: $KUBECONFIG or ~/.kube/config)'),
  context: () => new Option('--context <name>', 'kubeconfig context to use'),
  namespace: () => new Option('-n, --namespace <ns>', "namespace (default: the context's namespace)"),
  allNamespaces: () => new Option('-A, --all-namespaces', 'across all namespaces'),
  output: () => new Option('-o, --output <format>', 'output format: table|wide|json|yaml (some commands accept more)'),
  color: () => new Option('--no-color', 'disable colour (also NO_COLOR=1); colour is used only on a TTY'),
  verbose: () => new Option('-v, --verbose', 'print debug information and stack traces'),
  yes: () => new Option('-y, --yes', 'answer yes to every confirmation (for CI)'),
} satisfies Record<string, OptionFactory>;

/** Flags that read Kubernetes manifests: `-f` (files, directories, URLs, stdin) and `-R`. */
export const INPUT_FLAGS = {
  filename: () => new Option('-f, --filename <path>', 'manifests: a file, a directory, an https URL or - for stdin (repeatable)').argParser(collect),
  recursive: () => new Option('-R, --recursive', 'with -f: descend into subdirectories'),
} satisfies Record<string, OptionFactory>;

/** Spellings of the values file flag: `-f` is its short form except where `-f` already means --filename. */
const VALUES_FILE_DESCRIPTION = 'values file (YAML; - for stdin), repeatable, applied in order';

/** Flags that build mesh values (docs/values.md): a profile, values files, then --set. */
export const VALUES_FLAGS = {
  profile: () => new Option('--profile <name>', 'values profile: default, minimal, demo or ha (see "mesh profile list")'),
  values: () => new Option('-f, --values <file>', VALUES_FILE_DESCRIPTION).argParser(collect),
  /** --values without the -f alias, for commands whose -f is --filename (inject). */
  valuesLongOnly: () => new Option('--values <file>', VALUES_FILE_DESCRIPTION).argParser(collect),
  set: () => new Option('--set <key=value>', 'set one value, repeatable, applied last (e.g. controller.replicas=3)').argParser(collect),
  /** The observability addons: the same as --set addons.NAME.enabled=true for each NAME, before --set. */
  addons: () => new Option('--addons <names>', 'observability addons to enable, comma-separated: prometheus, grafana, jaeger (docs/observability.md)').argParser(collect),
} satisfies Record<string, OptionFactory>;

/** Add several shared flags to `cmd`, in the order given. */
export function addFlags(cmd: Command, ...factories: OptionFactory[]): Command {
  for (const make of factories) cmd.addOption(make());
  return cmd;
}

/** Add --profile, -f/--values, --set and --addons (install, upgrade, manifest). */
export function addValuesFlags(cmd: Command): Command {
  return addFlags(cmd, VALUES_FLAGS.profile, VALUES_FLAGS.values, VALUES_FLAGS.set, VALUES_FLAGS.addons);
}

/** Raw values flags as commander parses them. */
export interface RawValuesFlags {
  profile?: string;
  values?: string[];
  set?: string[];
  addons?: string[];
}

/**
 * The --set list a values command resolves: --addons (as addons.NAME.enabled=true, so a later
 * --set can still turn one off), then --set, then --mesh-namespace. An unknown addon is exit 2.
 */
export async function valuesSets(raw: RawValuesFlags, meshNamespace: string | undefined): Promise<string[] | undefined> {
  const addons = raw.addons ? (await import('../manifests/addons.js')).addonSets(raw.addons) : [];
  const sets = setsWithMeshNamespace(raw.set, meshNamespace);
  return addons.length ? [...addons, ...(sets ?? [])] : sets;
}

/** Root-level flags that take a value: the subcommand finder in src/cli.ts must skip their values. */
export function globalValueFlags(): Set<string> {
  const out = new Set<string>();
  for (const make of Object.values(GLOBAL_FLAGS)) {
    const o = make();
    if (!o.required && !o.optional) continue;
    if (o.short) out.add(o.short);
    if (o.long) out.add(o.long);
  }
  return out;
}

/**
 * The mesh's own namespace: one flag, one name, in every command that needs it (install,
 * upgrade, uninstall, manifest, inject, check, proxy-status, proxy-config). `-n` is never the
 * mesh's namespace: it is the namespace of the objects a command works on.
 */
export const MESH_FLAGS = {
  meshNamespace: () => new Option('--mesh-namespace <ns>', `namespace the mesh control plane is installed in (default ${DEFAULT_NAMESPACE})`),
  gatewayApi: () => new Option('--gateway-api', 'also install the official Gateway API CRDs (standard channel) of the release mesh pins, downloaded and verified by SHA-256 (docs/install.md)'),
  gatewayApiCrds: () => new Option('--gateway-api-crds <file>', "that release's standard-install.yaml from disk instead of downloading it (air-gapped; implies --gateway-api)"),
} satisfies Record<string, OptionFactory>;

/**
 * The --set list with --mesh-namespace applied as the value `namespace` (the two stay
 * interchangeable for commands that render values); a --set namespace= that says otherwise is a
 * usage error rather than a silent winner.
 */
export function setsWithMeshNamespace(sets: readonly string[] | undefined, meshNamespace: string | undefined): string[] | undefined {
  if (meshNamespace === undefined) return sets ? [...sets] : undefined;
  const other = (sets ?? []).find((s) => s.startsWith('namespace=') && s !== `namespace=${meshNamespace}`);
  if (other) throw usageError(`--mesh-namespace ${meshNamespace} and --set ${other} disagree`, 'give the mesh namespace once, with --mesh-namespace');
  return [...(sets ?? []), `namespace=${meshNamespace}`];
}

/** The global flags a command may refuse, by commander attribute name, as users spell them. */
const REFUSABLE = { namespace: '-n/--namespace', allNamespaces: '-A/--all-namespaces' } as const;

/** A global flag a command may refuse. */
export type RefusableFlag = keyof typeof REFUSABLE;

/** True when the user gave global flag `key` (on the command line or through the environment), not a default. */
export function givenGlobal(command: Command, key: RefusableFlag): boolean {
  let root = command;
  while (root.parent) root = root.parent;
  const source = root.getOptionValueSource(key);
  return source === 'cli' || source === 'env';
}

/**
 * Refuse a global flag the command cannot honour (exit 2) instead of silently ignoring it: `why`
 * says what the command works on, `hint` what to do instead (docs/cli.md, "One meaning per flag").
 */
export function refuseGlobals(command: Command, name: string, refused: Partial<Record<RefusableFlag, { why: string; hint: string }>>): void {
  for (const [key, r] of Object.entries(refused) as [RefusableFlag, { why: string; hint: string }][]) {
    if (givenGlobal(command, key)) throw usageError(`${name} does not take ${REFUSABLE[key]}: ${r.why}`, r.hint);
  }
}

/** The refusal of -n/-A by commands whose only namespace is the mesh's own. */
export const MESH_NAMESPACE_INSTEAD = {
  why: "the only namespace it uses is the mesh's own, and -n means the namespace of the objects a command works on",
  hint: 'use --mesh-namespace NS (default mesh-system)',
} as const;
