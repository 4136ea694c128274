/** A command tree, read from commander, that the completion scripts are generated from. */
export interface CompletionNode {
  name: string;
  description: string;
  /** Flags, long and short forms, e.g. ['--namespace', '-n']. */
  options: { flags: string[]; description: string }[];
  subcommands: CompletionNode[];
}

export const SHELLS = ['bash', 'zsh', 'fish'] as const;
export type Shell = (typeof SHELLS)[number];

/** Every command path ('' for the root, 'route canary' for a nested one) with the words valid after it. */
function paths(node: CompletionNode, global: string[], prefix = ''): { path: string; words: string[] }[] {
  const words = [...node.subcommands.map((s) => s.name), ...node.options.flatMap((o) => o.flags), ...global];
  const out = [{ path: prefix, words: [...new Set(words)] }];
  for (const s of node.subcommands) out.push(...paths(s, global, prefix ? `${prefix} ${s.name}` : s.name));
  return out;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** bash: words are picked by the longest known command path typed so far. */
function bash(root: CompletionNode): string {
  const global = root.options.flatMap((o) => o.flags);
  const cases = paths(root, global)
    .map(({ path, words }) => `    ${q(path)}) echo ${q(words.join(' '))} ;;`)
    .join('\n');
  return `# mesh bash completion. Load with: source <(mesh completion bash)
_mesh_words() {
  case "$1" in
${cases}
  esac
}
_mesh() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" path="" w i next
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    if [[ -z "$path" ]]; then next="$w"; else next="$path $w"; fi
    if [[ -n "$(_mesh_words "$next")" ]]; then path="$next"; fi
  done
  COMPREPLY=($(compgen -W "$(_mesh_words "$path")" -- "$cur"))
}
complete -F _mesh mesh
`;
}

function zsh(root: CompletionNode): string {
  const global = root.options.flatMap((o) => o.flags);
  const cases = paths(root, global)
    .map(({ path, words }) => `    ${q(path)}) reply=(${words.map(q).join(' ')}) ;;`)
    .join('\n');
  return `#compdef mesh
# mesh zsh completion. Load with: source <(mesh completion zsh)
_mesh_words() {
  case "$1" in
${cases}
    *) reply=() ;;
  esac
}
_mesh() {
  local path="" w next i
  local -a reply
  for (( i = 2; i < CURRENT; i++ )); do
    w="\${words[i]}"
    [[ "$w" == -* ]] && continue
    if [[ -z "$path" ]]; then next="$w"; else next="$path $w"; fi
    _mesh_words "$next"
    (( \${#reply} )) && path="$next"
  done
  _mesh_words "$path"
  compadd -- "\${reply[@]}"
}
compdef _mesh mesh
`;
}

function fish(root: CompletionNode): string {
  const lines = ['# mesh fish completion. Load with: mesh completion fish | source', 'complete -c mesh -f'];
  const opt = (o: CompletionNode['options'][number]) =>
    o.flags.map((f) => (f.startsWith('--') ? `-l ${f.slice(2)}` : `-s ${f.slice(1)}`)).join(' ') + ` -d ${q(o.description)}`;
  for (const o of root.options) lines.push(`complete -c mesh ${opt(o)}`);
  for (const c of root.subcommands) {
    lines.push(`complete -c mesh -n __fish_use_subcommand -a ${c.name} -d ${q(c.description)}`);
    for (const o of c.options) lines.push(`complete -c mesh -n '__fish_seen_subcommand_from ${c.name}' ${opt(o)}`);
    for (const s of c.subcommands) {
      lines.push(`complete -c mesh -n '__fish_seen_subcommand_from ${c.name}; and not __fish_seen_subcommand_from ${c.subcommands.map((x) => x.name).join(' ')}' -a ${s.name} -d ${q(s.description)}`);
      for (const o of s.options) lines.push(`complete -c mesh -n '__fish_seen_subcommand_from ${s.name}' ${opt(o)}`);
    }
  }
  return lines.join('\n') + '\n';
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
  }
}
