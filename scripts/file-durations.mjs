// A node:test reporter that writes one line per test file, "<milliseconds>\t<path>", from the
// runner's file-level completion events (the spec reporter does not show them). scripts/test.mjs
// sends it to a temp file and prints the slowest files after the run.
export default async function* fileDurations(source) {
  for await (const event of source) {
    const d = event.data;
    if (event.type === 'test:complete' && d.nesting === 0 && d.file && d.name === d.file) yield `${d.details.duration_ms}\t${d.file}\n`;
  }
}
