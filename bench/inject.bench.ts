// `mesh inject` on 10,000 mixed documents through stdin, process start included (issue 5's target:
// under 2 s on 2 cores), and peak RSS for 1k vs 10k documents: streaming means memory must not
// grow with the input.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { median, type Benchmark, type BenchResult } from './harness.ts';

const MESH = fileURLToPath(new URL('../bin/mesh', import.meta.url));
const MAX_MS = 2000;
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

/** Wall time of one `mesh inject -f -` with `file` on stdin, output discarded. */
function timeRun(file: string): number {
  const fd = openSync(file, 'r');
  const t0 = process.hrtime.bigint();
  const r = spawnSync(process.execPath, ARGS, { stdio: [fd, 'ignore', 'ignore'], env: ENV });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  closeSync(fd);
  if (r.status !== 0) throw new Error(`mesh inject exited ${r.status}`);
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
    writeFileSync(small, corpus(1_000));
    writeFileSync(large, corpus(10_000));
    timeRun(large);
    const times = Array.from({ length: 5 }, () => timeRun(large));
    const ms = median(times);
    const mem = join(dir, 'mem.json');
    const m1 = Array.from({ length: 3 }, () => memoryRun(small, mem));
    const m10 = Array.from({ length: 3 }, () => memoryRun(large, mem));
    const rss1 = median(m1.map((m) => m.rss));
    const rss10 = median(m10.map((m) => m.rss));
    const live1 = median(m1.map((m) => m.live));
    const live10 = median(m10.map((m) => m.live));
    const ratio = live10 / live1;
    const big = join(dir, 'big-scalar.yaml');
    writeFileSync(big, `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  blob: "${'x'.repeat(20_000_000)}"\n`);
    const bigMs = median(Array.from({ length: 3 }, () => timeRun(big)));
    return [
      { name: 'inject 10,000 docs via stdin', value: ms, unit: 'ms', detail: `median of 5, process start included (${(statSync(large).size / 2 ** 20).toFixed(1)} MB in)`, target: { max: MAX_MS }, pass: ms <= MAX_MS },
      { name: 'peak RSS 1k docs', value: rss1, unit: 'MB', detail: 'median of 3' },
      { name: 'peak RSS 10k docs', value: rss10, unit: 'MB', detail: 'includes V8 sizing its heap to the allocation rate' },
      { name: 'max live heap 1k docs', value: live1, unit: 'MB', detail: 'after forced GC, sampled every 50 ms' },
      { name: 'max live heap 10k docs', value: live10, unit: 'MB' },
      { name: 'inject one 20 MB scalar', value: bigMs, unit: 'ms', detail: 'median of 3: splitting documents is linear in the input', target: { max: MAX_BIG_SCALAR_MS }, pass: bigMs <= MAX_BIG_SCALAR_MS },
      { name: 'live heap 10k / 1k', value: ratio, unit: 'x', detail: 'streaming: memory must not grow with input', target: { max: MAX_LIVE_RATIO }, pass: ratio <= MAX_LIVE_RATIO },
    ];
  },
};
