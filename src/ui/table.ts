// kubectl-style tables on their own (re-exported by output.ts): a command that prints only a table
// does not load output.ts's YAML writers (the yaml package and the manifest renderer, about 60 ms
// of start-up CPU; docs/bench.md, `mesh stat`).
import Table from 'cli-table3';

/** A table column: a header and how to read a row. `wide` columns show only with -o wide. */
export interface Column<T> {
  header: string;
  value: (row: T) => string | number;
  wide?: boolean;
}

/**
 * Render rows the way kubectl does: upper-case headers, no borders, columns padded with three spaces.
 * With no rows, returns `emptyMessage` (kubectl: "No resources found").
 */
export function renderTable<T>(rows: readonly T[], columns: readonly Column<T>[], opts: { wide?: boolean; emptyMessage?: string } = {}): string {
  if (rows.length === 0) return (opts.emptyMessage ?? 'No resources found.') + '\n';
  const cols = columns.filter((c) => opts.wide || !c.wide);
  const table = new Table({
    head: cols.map((c) => c.header.toUpperCase()),
    chars: {
      top: '', 'top-mid': '', 'top-left': '', 'top-right': '', bottom: '', 'bottom-mid': '', 'bottom-left': '',
      'bottom-right': '', left: '', 'left-mid': '', mid: '', 'mid-mid': '', right: '', 'right-mid': '', middle: '',
    },
    style: { head: [], border: [], 'padding-left': 0, 'padding-right': 3 },
  });
  for (const row of rows) table.push(cols.map((c) => String(c.value(row))));
  return (
    table
      .toString()
      .split('\n')
      .map((l) => l.trimEnd())
      .join('\n') + '\n'
  );
}
