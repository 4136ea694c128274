/**
 * Values a flag or argument completes to: fixed words, or `@KIND`, resources the script asks the
 * cluster for at completion time (`mesh __complete KIND`, nothing when no cluster answers).
 */
export type CompletionValues = readonly string[];

/** Cluster resources the scripts complete by asking `mesh __complete`. */
export const RESOURCE_KINDS = ['namespaces', 'pods', 'services'] as const;
/** One of RESOURCE_KINDS. */
export type ResourceKindName = (typeof RESOURCE_KINDS)[number];

/** The marker in a values list for resources read from the cluster. */
export const dynamic = (kind: ResourceKindName): string => `@${kind}`;

/** A command tree, read from commander, that the completion scripts are generated from. */
export interface CompletionNode {
  name: string;
  description: string;
  /** Flags, long and short forms, e.g. ['--namespace', '-n']; `values` when the flag takes one of a known set. */
  options: { flags: string[]; description: string; values?: CompletionValues }[];
  /** What the positional arguments complete to (proxy-config sections, pods, shells). */
  args?: CompletionValues;
  subcommands: CompletionNode[];
}

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
export type Shell = (typeof SHELLS)[number];

interface PathInfo {
  path: string;
  /** Subcommands and flags valid after the path. */
  words: string[];
  /** `FLAG` -> its values, for the flags valid after the path (global ones included). */
  flagValues: Map<string, CompletionValues>;
  args: CompletionValues;
}

/** Every command path ('' for the root, 'route canary' for a nested one) with what completes after it. */
function paths(node: CompletionNode, global: CompletionNode['options'], prefix = ''): PathInfo[] {
  const opts = [...node.options, ...global];
  const words = [...node.subcommands.map((s) => s.name), ...opts.flatMap((o) => o.flags)];
  const flagValues = new Map<string, CompletionValues>();
  // A command's own values (its -o formats) win over the global ones.
  for (const o of [...global, ...node.options]) if (o.values?.length) for (const f of o.flags) flagValues.set(f, o.values);
  const out: PathInfo[] = [{ path: prefix, words: [...new Set(words)], flagValues, args: node.args ?? [] }];
  for (const s of node.subcommands) out.push(...paths(s, global, prefix ? `${prefix} ${s.name}` : s.name));
  return out;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** bash: words are picked by the longest known command path typed so far; flag values by the word before. */
function bash(root: CompletionNode): string {
  const all = paths(root, root.options);
  const cases = all.map(({ path, words }) => `    ${q(path)}) echo ${q(words.join(' '))} ;;`).join('\n');
  const valueCases = all.flatMap(({ path, flagValues }) => [...flagValues].map(([flag, values]) => `    ${q(`${path}|${flag}`)}) echo ${q(values.join(' '))} ;;`)).join('\n');
  const argCases = all.filter((p) => p.args.length).map(({ path, args }) => `    ${q(path)}) echo ${q(args.join(' '))} ;;`).join('\n');
  return `# mesh bash completion. Load with: source <(mesh completion bash)
_mesh_words() {
  case "$1" in
${cases}
  esac
}
_mesh_flag_values() {
  case "$1" in
${valueCases}
  esac
}
_mesh_arg_values() {
  case "$1" in
${argCases}
  esac
}
# Fixed words as they are; @KIND asks the cluster (quietly nothing when none answers).
_mesh_expand() {
  local v ns="$2"
  for v in $1; do
    if [[ "$v" == @* ]]; then mesh __complete "\${v#@}" \${ns:+-n "$ns"} 2>/dev/null; else echo "$v"; fi
  done
}
_mesh() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="" path="" w i next ns="" vals
  (( COMP_CWORD > 1 )) && prev="\${COMP_WORDS[COMP_CWORD-1]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if [[ "$w" == -n || "$w" == --namespace ]]; then ns="\${COMP_WORDS[i+1]}"; fi
    [[ "$w" == -* ]] && continue
    if [[ -z "$path" ]]; then next="$w"; else next="$path $w"; fi
    if [[ -n "$(_mesh_words "$next")" ]]; then path="$next"; fi
  done
  if [[ "$prev" == -* ]]; then
    vals="$(_mesh_flag_values "$path|$prev")"
    if [[ -n "$vals" ]]; then
      COMPREPLY=($(compgen -W "$(_mesh_expand "$vals" "$ns")" -- "$cur"))
      return
    fi
  fi
  vals="$(_mesh_words "$path")"
  [[ "$cur" != -* ]] && vals="$vals $(_mesh_expand "$(_mesh_arg_values "$path")" "$ns")"
  COMPREPLY=($(compgen -W "$vals" -- "$cur"))
}
complete -F _mesh mesh
`;
}

function zsh(root: CompletionNode): string {
  const all = paths(root, root.options);
  const cases = all.map(({ path, words }) => `    ${q(path)}) reply=(${words.map(q).join(' ')}) ;;`).join('\n');
  const valueCases = all.flatMap(({ path, flagValues }) => [...flagValues].map(([flag, values]) => `    ${q(`${path}|${flag}`)}) reply=(${values.map(q).join(' ')}) ;;`)).join('\n');
  const argCases = all.filter((p) => p.args.length).map(({ path, args }) => `    ${q(path)}) reply=(${args.map(q).join(' ')}) ;;`).join('\n');
  return `#compdef mesh
# mesh zsh completion. Load with: source <(mesh completion zsh)
_mesh_words() {
  case "$1" in
${cases}
    *) reply=() ;;
  esac
}
_mesh_flag_values() {
  case "$1" in
${valueCases}
    *) reply=() ;;
  esac
}
_mesh_arg_values() {
  case "$1" in
${argCases}
    *) reply=() ;;
  esac
}
_mesh_expand() {
  local v ns="$1"; shift
  local -a out
  for v in "$@"; do
    if [[ "$v" == @* ]]; then out+=(\${(f)"$(mesh __complete "\${v#@}" \${ns:+-n} \${ns:+$ns} 2>/dev/null)"}); else out+=("$v"); fi
  done
  reply=("\${out[@]}")
}
_mesh() {
  local path="" w next i ns="" prev="\${words[CURRENT-1]}"
  local -a reply vals
  for (( i = 2; i < CURRENT; i++ )); do
    w="\${words[i]}"
    if [[ "$w" == -n || "$w" == --namespace ]]; then ns="\${words[i+1]}"; fi
    [[ "$w" == -* ]] && continue
    if [[ -z "$path" ]]; then next="$w"; else next="$path $w"; fi
    _mesh_words "$next"
    (( \${#reply} )) && path="$next"
  done
  if [[ "$prev" == -* ]]; then
    _mesh_flag_values "$path|$prev"
    if (( \${#reply} )); then
      _mesh_expand "$ns" "\${reply[@]}"
      compadd -- "\${reply[@]}"
      return
    fi
  fi
  _mesh_words "$path"
  vals=("\${reply[@]}")
  if [[ "\${words[CURRENT]}" != -* ]]; then
    _mesh_arg_values "$path"
    _mesh_expand "$ns" "\${reply[@]}"
    vals+=("\${reply[@]}")
  fi
  compadd -- "\${vals[@]}"
}
compdef _mesh mesh
`;
}

/** fish: `-xa` lists a flag's values; @KIND becomes a command substitution asking the cluster. */
function fishValues(values: CompletionValues): string {
  return q(values.map((v) => (v.startsWith('@') ? `(mesh __complete ${v.slice(1)} 2>/dev/null)` : v)).join(' '));
}

function fish(root: CompletionNode): string {
  const lines = ['# mesh fish completion. Load with: mesh completion fish | source', 'complete -c mesh -f'];
  const opt = (o: CompletionNode['options'][number]) =>
    o.flags.map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`)).join(' ') + (o.values?.length ? ` -xa ${fishValues(o.values)}` : '') + ` -d ${q(o.description)}`;
  for (const o of root.options) lines.push(`complete -c mesh ${opt(o)}`);
  for (const c of root.subcommands) {
    lines.push(`complete -c mesh -n __fish_use_subcommand -a ${c.name} -d ${q(c.description)}`);
    for (const o of c.options) lines.push(`complete -c mesh -n '__fish_seen_subcommand_from ${c.name}' ${opt(o)}`);
    if (c.args?.length) lines.push(`complete -c mesh -n '__fish_seen_subcommand_from ${c.name}' -a ${fishValues(c.args)}`);
    for (const s of c.subcommands) {
      lines.push(`complete -c mesh -n '__fish_seen_subcommand_from ${c.name}; and not __fish_seen_subcommand_from ${c.subcommands.map((x) => x.name).join(' ')}' -a ${s.name} -d ${q(s.description)}`);
      for (const o of s.options) lines.push(`complete -c mesh -n '__fish_seen_subcommand_from ${s.name}' ${opt(o)}`);
      if (s.args?.length) lines.push(`complete -c mesh -n '__fish_seen_subcommand_from ${s.name}' -a ${fishValues(s.args)}`);
    }
  }
  return lines.join('\n') + '\n';
}

const psq = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** PowerShell: a native argument completer with the same tables as bash. */
function powershell(root: CompletionNode): string {
  const all = paths(root, root.options);
  const words = all.map(({ path, words: w }) => `  ${psq(path)} = @(${w.map(psq).join(', ')})`).join('\n');
  const values = all.flatMap(({ path, flagValues }) => [...flagValues].map(([flag, v]) => `  ${psq(`${path}|${flag}`)} = @(${v.map(psq).join(', ')})`)).join('\n');
  const args = all.filter((p) => p.args.length).map(({ path, args: a }) => `  ${psq(path)} = @(${a.map(psq).join(', ')})`).join('\n');
  return `# mesh PowerShell completion. Load with: mesh completion powershell | Out-String | Invoke-Expression
$meshWords = @{
${words}
}
$meshFlagValues = @{
${values}
}
$meshArgValues = @{
${args}
}
Register-ArgumentCompleter -Native -CommandName mesh -ScriptBlock {
  param($wordToComplete, $commandAst, $cursorPosition)
  $tokens = @($commandAst.CommandElements | Select-Object -Skip 1 | ForEach-Object { $_.ToString() })
  if ($wordToComplete -ne '' -and $tokens.Count -gt 0) { $tokens = @($tokens | Select-Object -First ($tokens.Count - 1)) }
  $path = ''
  $ns = ''
  for ($i = 0; $i -lt $tokens.Count; $i++) {
    $w = $tokens[$i]
    if (($w -eq '-n' -or $w -eq '--namespace') -and $i + 1 -lt $tokens.Count) { $ns = $tokens[$i + 1] }
    if ($w.StartsWith('-')) { continue }
    $next = if ($path -eq '') { $w } else { "$path $w" }
    if ($meshWords.ContainsKey($next)) { $path = $next }
  }
  $prev = if ($tokens.Count -gt 0) { $tokens[-1] } else { '' }
  $expand = {
    param($list)
    foreach ($v in $list) {
      if ($v.StartsWith('@')) {
        $nsArgs = if ($ns -ne '') { @('-n', $ns) } else { @() }
        & mesh __complete $v.Substring(1) @nsArgs 2>$null
      } else { $v }
    }
  }
  $key = "$path|$prev"
  if ($prev.StartsWith('-') -and $meshFlagValues.ContainsKey($key)) {
    $candidates = & $expand $meshFlagValues[$key]
  } else {
    $candidates = @($meshWords[$path])
    if (-not $wordToComplete.StartsWith('-') -and $meshArgValues.ContainsKey($path)) { $candidates += & $expand $meshArgValues[$path] }
  }
  $candidates | Where-Object { $_ -like "$wordToComplete*" } | ForEach-Object {
    [System.Management.Automation.CompletionResult]::new($_, $_, 'ParameterValue', $_)
  }
}
`;
}

/** Generate the completion script for `shell` from the command tree. Pure. */
export function completionScript(shell: Shell, root: CompletionNode): string {
  switch (shell) {
    case 'bash':
      return bash(root);
    case 'zsh':
      return zsh(root);
    case 'fish':
      return fish(root);
    case 'powershell':
      return powershell(root);
  }
}
