// `mesh inject` on 10,000 mixed documents through stdin, process start included, as a ratio against
// the floor of the same file: a node process that only parses it with js-yaml (loadAll) and prints
// every document back (dump), run interleaved with it (issue 22's goal: at most 1.2x). And memory
// for 1k, 10k and 100k documents: streaming means it must not grow with the input.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, ratioResult, type Benchmark, type BenchResult } from './harness.ts';

const MESH = fileURLToPath(new URL('../bin/mesh', import.meta.url));
const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Issue 22's goal: inject at most 1.2x the js-yaml parse-and-print floor. */
const FLOOR_GOAL = 1.2;
const RUNS = 5;
/** Peak RSS at 100,000 documents may be at most this much above 10,000 (streaming). */
const MAX_RSS_RATIO = 1.5;
/** The live heap at 10k documents may be at most this much above 1k documents. */
const MAX_LIVE_RATIO = 1.25;
/** One document holding one 20 MB scalar (a ConfigMap with a big file): was 13 s when splitting was quadratic. */
const MAX_BIG_SCALAR_MS = 3000;

const deployment = (i: number) => `# workload ${i}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web-${i}
  namespace: team-${i % 50}
  labels: {app: web-${i}}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web-${i}}
  template:
    metadata:
      labels: {app: web-${i}, version: v1}
      annotations:
        mesh.dev/exclude-outbound-ports: "5432"
    spec:
      serviceAccountName: web-${i}
      containers:
        - name: web
          image: ghcr.io/example/web:1.${i % 10}
          ports:
            - {name: http, containerPort: 8080}
          env:
            - {name: DB_URL, value: "postgres://db:5432/app"}
          readinessProbe:
            httpGet: {path: /ready, port: http}
          livenessProbe:
            httpGet: {path: /live, port: 8080}
          resources:
            requests: {cpu: 100m, memory: 128Mi}
`;
const statefulset = (i: number) => `apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db-${i}, namespace: team-${i % 50}}
spec:
  serviceName: db-${i}
  selector: {matchLabels: {app: db-${i}}}
  template:
    metadata: {labels: {app: db-${i}}}
    spec:
      containers:
        - name: db
          image: postgres:16
          ports: [{name: tcp-pg, containerPort: 5432}]
`;
const service = (i: number) => `apiVersion: v1
kind: Service
metadata:
  name: web-${i}
  namespace: team-${i % 50}
spec:
  selector: {app: web-${i}}
  ports:
    - {name: http, port: 80, targetPort: http}
`;
const cronjob = (i: number) => `apiVersion: batch/v1
kind: CronJob
metadata: {name: report-${i}, namespace: team-${i % 50}}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: report, image: "example/report:1", args: ["--all"]}]
`;
const configmap = (i: number) => `apiVersion: v1
kind: ConfigMap
metadata: {name: conf-${i}}
data:
  app.conf: |
    listen 8080
    workers ${i % 8}
`;
const MAKERS = [deployment, deployment, statefulset, service, cronjob, configmap];

export function corpus(n: number): string {
  const parts: string[] = [];
  for (let i = 0; i < n; i++) parts.push(MAKERS[i % MAKERS.length]!(i));
  return parts.join('---\n');
}

/**
 * Loaded into the measured process with --import: every 50 ms (whenever the event loop is free,
 * i.e. between stdin chunks) it forces a full GC and records the live heap; at exit it writes that
 * maximum and the peak RSS. Live heap is what streaming bounds; RSS also includes V8 growing its
 * heap to the allocation rate, which levels off but is not a property of our code.
 */
const MEMORY_HOOK = `
import { writeFileSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc');
let live = 0;
const sample = () => { gc(); live = Math.max(live, process.memoryUsage().heapUsed); };
setInterval(sample, 50).unref();
process.on('exit', () => { sample(); writeFileSync(process.env.MESH_BENCH_MEM, JSON.stringify({ rss: process.resourceUsage().maxRSS * 1024, live })); });
`;

const ENV = { ...process.env, HOME: '/nonexistent-home', KUBECONFIG: '' };
const ARGS = [MESH, 'inject', '-f', '-', '--kube-version', '1.30'];
/** The floor: read stdin, js-yaml loadAll, dump each document, write them out (what any YAML rewriter must do). */
const FLOOR = `import yaml from 'js-yaml';
const chunks = [];
for await (const c of process.stdin) chunks.push(c);
const out = yaml.loadAll(Buffer.concat(chunks).toString('utf8')).map((d) => yaml.dump(d)).join('---\\n');
process.stdout.write(out);`;
const FLOOR_ARGS = ['--input-type=module', '-e', FLOOR];

/** Wall time of one `node ARGS` with `file` on stdin, output discarded. */
function timeRun(file: string, args: string[] = ARGS): number {
  const fd = openSync(file, 'r');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, args, { stdio: [fd, 'ignore', 'pipe'], env: ENV, cwd: ROOT });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  closeSync(fd);
  if (r.status !== 0) throw new Error(`${args === ARGS ? 'mesh inject' : 'the js-yaml floor'} exited ${r.status}: ${r.stderr.toString().slice(0, 500)}`);
  return ms;
}

/** Peak RSS and maximum live heap (MB) of one run. */
function memoryRun(file: string, out: string): { rss: number; live: number } {
  const fd = openSync(file, 'r');
  const r = spawnSync(process.execPath, ['--import', `data:text/javascript,${encodeURIComponent(MEMORY_HOOK)}`, ...ARGS], { stdio: [fd, 'ignore', 'ignore'], env: { ...ENV, MESH_BENCH_MEM: out } });
  closeSync(fd);
  if (r.status !== 0) throw new Error(`mesh inject exited ${r.status}`);
  const m = JSON.parse(readFileSync(out, 'utf8')) as { rss: number; live: number };
  return { rss: m.rss / 2 ** 20, live: m.live / 2 ** 20 };
}

export const benchmark: Benchmark = {
  name: 'inject',
  async run(): Promise<BenchResult[]> {
    const dir = mkdtempSync(join(tmpdir(), 'mesh-bench-inject-'));
    const small = join(dir, '1k.yaml');
    const large = join(dir, '10k.yaml');
    const huge = join(dir, '100k.yaml');
    writeFileSync(small, corpus(1_000));
    writeFileSync(large, corpus(10_000));
    writeFileSync(huge, corpus(100_000));
    timeRun(large);
    timeRun(large, FLOOR_ARGS);
    const times: number[] = [];
    const floors: number[] = [];
    // Interleaved, so a change in the machine's load hits both alike.
    for (let i = 0; i < RUNS; i++) {
      floors.push(timeRun(large, FLOOR_ARGS));
      times.push(timeRun(large));
    }
    const ms = median(times);
    const floor = median(floors);
    const mem = join(dir, 'mem.json');
    const m1 = Array.from({ length: 3 }, () => memoryRun(small, mem));
    const m10 = Array.from({ length: 3 }, () => memoryRun(large, mem));
    const m100 = memoryRun(huge, mem);
    const rss1 = median(m1.map((m) => m.rss));
    const rss10 = median(m10.map((m) => m.rss));
    const live1 = median(m1.map((m) => m.live));
    const live10 = median(m10.map((m) => m.live));
    const ratio = live10 / live1;
    const big = join(dir, 'big-scalar.yaml');
    writeFileSync(big, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  blob: "${'x'.repeat(20_000_000)}"\n`);
    const bigMs = median(Array.from({ length: 3 }, () => timeRun(big)));
    return [
      ratioResult('inject 10,000 docs via stdin vs js-yaml loadAll+dump', ms, floor, FLOOR_GOAL, `median of ${RUNS} each, interleaved, process start included (${(statSync(large).size / 2 ** 20).toFixed(1)} MB in)`),
      { name: 'peak RSS 1k docs', value: rss1, unit: 'MB', detail: 'median of 3' },
      { name: 'peak RSS 10k docs', value: rss10, unit: 'MB', detail: 'includes V8 sizing its heap to the allocation rate' },
      { name: 'max live heap 1k docs', value: live1, unit: 'MB', detail: 'after forced GC, sampled every 50 ms' },
      { name: 'max live heap 10k docs', value: live10, unit: 'MB' },
      { name: 'peak RSS 100k docs', value: m100.rss, unit: 'MB', detail: `one run, ${(statSync(huge).size / 2 ** 20).toFixed(0)} MB in; max live heap ${m100.live.toFixed(1)} MB` },
      { name: 'peak RSS 100k / 10k docs', value: m100.rss / rss10, unit: 'x', detail: 'streaming: memory must not grow with input', target: { max: MAX_RSS_RATIO } },
      { name: 'live heap 100k / 1k docs', value: m100.live / live1, unit: 'x', detail: 'after forced GC', target: { max: MAX_LIVE_RATIO } },
      { name: 'inject one 20 MB scalar', value: bigMs, unit: 'ms', detail: 'median of 3: splitting documents is linear in the input', target: { max: MAX_BIG_SCALAR_MS } },
      { name: 'live heap 10k / 1k', value: ratio, unit: 'x', detail: 'streaming: memory must not grow with input', target: { max: MAX_LIVE_RATIO } },
    ];
  },
};
