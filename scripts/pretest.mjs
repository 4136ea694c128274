// `npm test`'s pretest: typecheck + compile the suite (scripts/build-tests.mjs: .test-build/, from
// which dist/, what bin/mesh runs, is copied), lint, and the dashboard page, side by side: they are
// independent, and run one after another they cost the 2-core CI machine about 20 s of idle core. Each step's output is
// printed when it ends, whole (never interleaved); the first failure fails the run, after all end.
import { spawn } from 'node:child_process';

// A step is a name and the node argument lists it runs one after another.
const STEPS = [
  // One tsc pass type-checks and compiles src, test and bench (.test-build/); dist/ is copied from
  // it (scripts/dist-from-tests.mjs: the same JavaScript `npm run build` emits, without compiling
  // src twice), client-node's KubeConfig bundled alone (scripts/build-kubeconfig.mjs), then the
  // recorded help answers bin/mesh prints (dist/cli-cache.json).
  ['typecheck + build', ['scripts/build-tests.mjs'], ['scripts/dist-from-tests.mjs'], ['scripts/build-kubeconfig.mjs'], ['scripts/build-help-cache.mjs']],
  ['lint', ['node_modules/eslint/bin/eslint.js', '--max-warnings', '0', 'src', 'test', 'bench', 'scripts', 'web']],
  // The dashboard page (web/): type-checked for the browser, and bundled into dist/ as npm run build does.
  ['web', ['node_modules/typescript/bin/tsc', '-p', 'web/tsconfig.json']],
  ['bundle', ['scripts/build-web.mjs']],
];

const exec = (args, sink) =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.on('data', sink);
    child.stderr.on('data', sink);
    child.on('close', (code) => resolve(code ?? 1));
  });

const run = async ([name, ...commands]) => {
  const started = Date.now();
  let out = '';
  let code = 0;
  for (const args of commands) {
    code = await exec(args, (d) => (out += d));
    if (code !== 0) break;
  }
  process.stdout.write(`${name}: ${code === 0 ? 'ok' : `failed (exit ${code})`} in ${((Date.now() - started) / 1000).toFixed(1)} s\n${out}`);
  return code;
};

const codes = await Promise.all(STEPS.map(run));
process.exitCode = codes.find((c) => c !== 0) ?? 0;
