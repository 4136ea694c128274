/**
 * `text` cut to at most `max` characters at a word boundary, with an ellipsis when anything was
 * cut: error messages quoted from other systems never end mid-token ("connection refu").
 */
export function clipText(text: string, max: number): string {
  if (text.length <= max) return text;
  const cut = text.slice(0, max);
  const space = cut.search(/\s\S*$/);
  return `${(space > 0 ? cut.slice(0, space) : cut).trimEnd()} …`;
}

/** `s` with every regular-expression metacharacter escaped (the same in RE2 and JavaScript), so it matches itself literally. */
export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
