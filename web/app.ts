// The dashboard page: draws what the server's data API and SSE stream send (src/dashboard/model.ts
// defines the shapes). It never computes mesh semantics itself. Text goes in through textContent
// only, so names from the cluster cannot inject markup.
import cytoscape from 'cytoscape';
import uPlot from 'uplot';
import type { DashboardData, GraphEdge, GraphNode, Golden, MetricsPoint } from '../src/dashboard/model.js';

interface Initial {
  data: DashboardData;
  history: MetricsPoint[];
  csrf: string | null;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const HEALTH_COLOUR: Record<string, string> = { ok: '#1a7f37', warn: '#9a6700', bad: '#cf222e', unknown: '#57606a' };
const KIND_SHAPE: Record<string, cytoscape.Css.NodeShape> = { svc: 'round-rectangle', deploy: 'ellipse', sts: 'ellipse', ds: 'ellipse', gateway: 'diamond' };

let data: DashboardData;
let history: MetricsPoint[] = [];
let csrf: string | null = null;
let cy: cytoscape.Core | undefined;
let layoutKey = '';
let selected: string | undefined;
const charts: Record<string, uPlot> = {};

const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${(v * 100).toFixed(v === 1 ? 0 : 1)}%`);
const num = (v: number | null | undefined, unit = ''): string => (v === null || v === undefined ? '-' : `${Number(v.toFixed(v < 10 ? 2 : 1))}${unit}`);

function cell(row: HTMLTableRowElement, text: string, cls?: string): HTMLTableCellElement {
  const td = row.insertCell();
  td.textContent = text;
  if (cls) td.className = cls;
  return td;
}

function nsFilter(): string {
  return ($('ns') as HTMLSelectElement).value;
}

function matches(n: { namespace: string; name: string }): boolean {
  const ns = nsFilter();
  const q = ($('search') as HTMLInputElement).value.trim().toLowerCase();
  return (!ns || n.namespace === ns) && (!q || n.name.toLowerCase().includes(q));
}

function edgeLabel(e: GraphEdge): string {
  if (e.kind === 'route' || e.kind === 'ingress') return e.percent === undefined ? '' : `${e.percent}%`;
  const m = e.metrics;
  if (!m) return '';
  return `${num(m.rps)} rps · ${pct(m.successRate)} · p99 ${num(m.p99Ms, 'ms')}${m.mtls !== null && m.mtls >= 0.999 ? ' 🔒' : ''}`;
}

function visible(): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nodes = data.nodes.filter(matches);
  const ids = new Set(nodes.map((n) => n.id));
  return { nodes, edges: data.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) };
}

function renderGraph(): void {
  const { nodes, edges } = visible();
  const elements: cytoscape.ElementDefinition[] = [
    ...nodes.map((n) => ({ group: 'nodes' as const, data: { id: n.id, label: n.kind === 'svc' ? n.name : `${n.name} (${n.kind})`, colour: HEALTH_COLOUR[n.health], shape: KIND_SHAPE[n.kind] } })),
    ...edges.map((e) => ({ group: 'edges' as const, data: { id: e.id, source: e.source, target: e.target, label: edgeLabel(e), colour: HEALTH_COLOUR[e.health], kind: e.kind } })),
  ];
  const key = [...nodes.map((n) => n.id), ...edges.map((e) => e.id)].join('\n');
  const started = performance.now();
  if (!cy) {
    cy = cytoscape({
      container: $('graph'),
      elements,
      // Fast on large graphs: no animation, textures while panning, edges hidden while moving.
      textureOnViewport: true,
      hideEdgesOnViewport: elements.length > 400,
      pixelRatio: 1,
      minZoom: 0.05,
      maxZoom: 4,
      style: [
        { selector: 'node', style: { label: 'data(label)', 'background-color': 'data(colour)', shape: 'data(shape)' as unknown as cytoscape.Css.NodeShape, 'font-size': 11, color: '#1f2328', 'text-valign': 'bottom', 'text-margin-y': 4, width: 22, height: 22 } },
        { selector: 'edge', style: { width: 2, 'line-color': 'data(colour)', 'target-arrow-color': 'data(colour)', 'target-arrow-shape': 'triangle', 'curve-style': 'bezier', label: 'data(label)', 'font-size': 10, color: '#1f2328', 'text-background-color': '#ffffff', 'text-background-opacity': 0.85, 'text-background-padding': '2px' } },
        { selector: 'edge[kind = "selects"]', style: { 'line-style': 'dashed', width: 1, 'target-arrow-shape': 'none' } },
        { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#0969da' } },
      ],
    });
    cy.on('tap', 'node', (ev) => select(ev.target.id() as string));
  } else if (key !== layoutKey) {
    cy.elements().remove();
    cy.add(elements);
  } else {
    // Same elements: only labels and colours change, positions stay where the user left them.
    for (const e of elements) cy.getElementById(e.data.id!).data(e.data);
  }
  if (key !== layoutKey) {
    layoutKey = key;
    const roots = cy.nodes().filter((n) => n.indegree(false) === 0);
    cy.layout({ name: 'breadthfirst', directed: true, roots, spacingFactor: 1.1, animate: false, fit: true, padding: 20 } as cytoscape.LayoutOptions).run();
  }
  const g = $('graph');
  g.dataset.nodes = String(cy.nodes().length);
  g.dataset.edges = String(cy.edges().length);
  g.dataset.renderMs = String(Math.round(performance.now() - started));
}

function renderTables(): void {
  const { nodes, edges } = visible();
  const names = new Map(data.nodes.map((n) => [n.id, n]));
  const eb = ($('edges') as HTMLTableElement).tBodies[0]!;
  eb.replaceChildren();
  for (const e of edges) {
    const r = eb.insertRow();
    r.dataset.edge = e.id;
    cell(r, e.source);
    cell(r, e.target);
    cell(r, e.kind === 'route' || e.kind === 'ingress' ? `${e.kind} ${e.percent ?? '-'}%` : e.kind);
    cell(r, num(e.metrics?.rps));
    cell(r, pct(e.metrics?.successRate), `health-${e.health}`);
    cell(r, num(e.metrics?.p99Ms, ' ms'));
    const lock = cell(r, e.metrics?.mtls === undefined || e.metrics.mtls === null ? '-' : e.metrics.mtls >= 0.999 ? '🔒' : pct(e.metrics.mtls));
    if (lock.textContent === '🔒') lock.setAttribute('aria-label', 'mTLS on every connection');
  }
  const nb = ($('nodes') as HTMLTableElement).tBodies[0]!;
  nb.replaceChildren();
  for (const n of nodes) {
    const r = nb.insertRow();
    r.dataset.node = n.id;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'link';
    b.textContent = n.name;
    b.addEventListener('click', () => select(n.id));
    r.insertCell().append(b);
    cell(r, n.kind);
    cell(r, n.namespace);
    cell(r, num(n.metrics?.rps));
    cell(r, pct(n.metrics?.successRate), `health-${n.health}`);
    cell(r, num(n.metrics?.p99Ms, ' ms'));
  }
  void names;
  renderRoutes();
  renderProxies();
  renderFindings();
  renderCerts();
}

function renderRoutes(): void {
  const body = ($('routes') as HTMLTableElement).tBodies[0]!;
  body.replaceChildren();
  for (const rt of data.routes.filter(matches)) {
    const r = body.insertRow();
    r.dataset.route = `${rt.namespace}/${rt.name}`;
    cell(r, `${rt.namespace}/${rt.name}`);
    cell(r, rt.parents.join(', '));
    const b = r.insertCell();
    for (const be of rt.backends) {
      const div = document.createElement('div');
      div.className = 'backend';
      div.dataset.backend = be.name;
      const bar = document.createElement('progress');
      bar.max = 100;
      bar.value = be.percent;
      bar.setAttribute('aria-label', `${be.name} share`);
      const t = document.createElement('span');
      t.className = 'weight';
      t.textContent = `${be.name} ${be.percent}% (weight ${be.weight})`;
      div.append(bar, t);
      b.append(div);
    }
    const ro = rt.rollout;
    cell(r, ro ? `${ro.phase}${ro.step !== undefined && ro.steps ? `, step ${ro.step}/${ro.steps.length}` : ''}${ro.canaryWeight !== undefined ? `, canary ${ro.canaryWeight}%` : ''}: ${ro.message}` : '-');
    const act = r.insertCell();
    if (data.actions && csrf && rt.canary) {
      for (const which of ['promote', 'rollback'] as const) {
        const btn = document.createElement('button');
        btn.type = 'button';
        btn.dataset.action = which;
        btn.textContent = which === 'promote' ? 'Promote' : 'Roll back';
        btn.addEventListener('click', () => confirmAction(which, rt.namespace, rt.name));
        act.append(btn, ' ');
      }
    } else act.textContent = '-';
  }
}

function confirmAction(which: 'promote' | 'rollback', namespace: string, name: string): void {
  const dialog = $('confirm') as HTMLDialogElement;
  $('confirm-text').textContent = which === 'promote' ? `Send all traffic of ${namespace}/${name} to the canary?` : `Send all traffic of ${namespace}/${name} back to stable?`;
  const yes = $('confirm-yes');
  const no = $('confirm-no');
  const close = () => dialog.close();
  const go = async () => {
    close();
    const res = await fetch(`/api/routes/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/${which}`, { method: 'POST', headers: { 'x-mesh-csrf': csrf ?? '' }, credentials: 'same-origin' });
    const body = (await res.json()) as { ok?: boolean; error?: string; hint?: string | null };
    setStatus(res.ok ? `${which} of ${namespace}/${name} sent` : `${which} failed: ${body.error ?? res.status}${body.hint ? ` (${body.hint})` : ''}`);
  };
  yes.onclick = () => void go();
  no.onclick = close;
  dialog.showModal();
}

function renderProxies(): void {
  const body = ($('proxies') as HTMLTableElement).tBodies[0]!;
  body.replaceChildren();
  for (const p of data.proxies.filter((x) => matches({ namespace: x.namespace, name: x.name }))) {
    const r = body.insertRow();
    cell(r, p.name);
    cell(r, p.namespace);
    cell(r, p.nack ? `${p.state}: ${p.nack}` : p.state, p.state === 'SYNCED' ? 'health-ok' : p.state === 'OFFLINE' ? '' : 'health-bad');
    cell(r, p.version ?? '-');
    cell(r, p.proxyVersion ?? '-');
    cell(r, p.controller ?? '-');
    const b = document.createElement('button');
    b.type = 'button';
    b.textContent = 'Show config';
    b.addEventListener('click', () => void showConfig(p.namespace, p.pod ?? p.name));
    r.insertCell().append(b);
  }
}

function renderFindings(): void {
  const body = ($('findings') as HTMLTableElement).tBodies[0]!;
  body.replaceChildren();
  for (const f of data.findings.filter((x) => !nsFilter() || x.resource.namespace === nsFilter())) {
    const r = body.insertRow();
    cell(r, f.code);
    cell(r, f.severity, f.severity === 'error' ? 'health-bad' : f.severity === 'warning' ? 'health-warn' : '');
    cell(r, `${f.resource.kind} ${f.resource.namespace ? `${f.resource.namespace}/` : ''}${f.resource.name}`);
    cell(r, f.message);
    cell(r, f.hint);
  }
  if (!body.rows.length) cell(body.insertRow(), 'No findings.').colSpan = 5;
}

function renderCerts(): void {
  const body = ($('certs') as HTMLTableElement).tBodies[0]!;
  body.replaceChildren();
  for (const c of data.certificates) {
    const r = body.insertRow();
    cell(r, c.identity);
    cell(r, String(c.proxies));
    cell(r, c.notAfter ?? (data.mode === 'offline' ? 'issued at run time' : 'not issued yet'));
    cell(r, c.renewAt ?? '-');
    cell(r, c.secondsLeft === null ? '-' : c.secondsLeft > 86_400 ? `${(c.secondsLeft / 86_400).toFixed(1)} d` : `${(c.secondsLeft / 3600).toFixed(1)} h`, c.secondsLeft !== null && c.secondsLeft < 3600 ? 'health-bad' : '');
  }
}

async function showConfig(namespace: string, target: string): Promise<void> {
  ($('config-ns') as HTMLInputElement).value = namespace;
  ($('config-target') as HTMLInputElement).value = target;
  showTab('config');
  const pre = $('config');
  pre.textContent = 'loading…';
  const res = await fetch(`/api/proxy-config?namespace=${encodeURIComponent(namespace)}&target=${encodeURIComponent(target)}`, { credentials: 'same-origin' });
  const body = (await res.json()) as Record<string, unknown>;
  pre.textContent = res.ok ? JSON.stringify(body, null, 2) : `${String(body.error)}${body.hint ? `\nhint: ${String(body.hint)}` : ''}`;
  pre.dataset.proxy = res.ok ? String(body.proxy) : '';
  document.dispatchEvent(new CustomEvent('mesh:config'));
}

function series(id: string): [number[], (number | null)[], (number | null)[], (number | null)[]] {
  const pts = history.filter((p) => p.nodes[id]);
  const g = (p: MetricsPoint): Golden => p.nodes[id]!;
  return [pts.map((p) => p.t / 1000), pts.map((p) => g(p).rps), pts.map((p) => (g(p).successRate === null ? null : g(p).successRate! * 100)), pts.map((p) => g(p).p99Ms)];
}

function renderService(): void {
  const panel = $('service');
  const n = selected ? data.nodes.find((x) => x.id === selected) : undefined;
  panel.hidden = !n;
  if (!n) return;
  $('service-title').textContent = `${n.kind} ${n.namespace}/${n.name}`;
  $('service-now').textContent = n.metrics ? `now: ${num(n.metrics.rps)} rps, ${pct(n.metrics.successRate)} success, p99 ${num(n.metrics.p99Ms, ' ms')}` : data.mode === 'offline' ? 'offline: no metrics' : 'no traffic measured yet';
  const [t, rps, ok, p99] = series(n.id);
  const make = (key: string, values: (number | null)[], colour: string) => {
    const el = $(`chart-${key}`);
    const width = Math.max(200, Math.floor((el.parentElement?.clientWidth ?? 300) - 8));
    const d: uPlot.AlignedData = [t, values];
    if (charts[key] && charts[key].root.parentElement === el) charts[key].setData(d);
    else {
      el.replaceChildren();
      charts[key] = new uPlot({ width, height: 140, legend: { show: false }, series: [{}, { stroke: colour, width: 2, spanGaps: true }], axes: [{}, { size: 50 }] }, d, el);
    }
    el.dataset.points = String(t.length);
  };
  make('rps', rps, '#0969da');
  make('success', ok, '#1a7f37');
  make('p99', p99, '#8250df');
}

function select(id: string): void {
  selected = id;
  cy?.$(':selected').unselect();
  cy?.getElementById(id).select();
  renderService();
}

function setStatus(text: string): void {
  $('status').textContent = text;
}

function renderAll(): void {
  const nsSel = $('ns') as HTMLSelectElement;
  const current = nsSel.value;
  const want = [''].concat(data.namespaces);
  if ([...nsSel.options].map((o) => o.value).join(',') !== want.join(',')) {
    nsSel.replaceChildren(...want.map((ns) => new Option(ns || 'all namespaces', ns)));
    nsSel.value = want.includes(current) ? current : '';
  }
  setStatus(`${data.mode === 'live' ? 'live' : 'offline'}: ${data.source} · ${data.nodes.length} nodes, ${data.edges.length} edges · metrics: ${data.metricsMethod} · ${data.actions ? 'actions allowed' : 'read-only'} · updated ${new Date(data.generatedAt).toLocaleTimeString()}`);
  const w = $('warnings');
  w.replaceChildren(...data.warnings.map((x) => Object.assign(document.createElement('p'), { className: 'warning', textContent: `warning: ${x}` })));
  renderGraph();
  renderTables();
  renderService();
}

function showTab(name: string): void {
  for (const tab of document.querySelectorAll<HTMLButtonElement>('[role=tab]')) {
    const on = tab.id === `tab-${name}`;
    tab.setAttribute('aria-selected', String(on));
    tab.tabIndex = on ? 0 : -1;
    $(tab.getAttribute('aria-controls')!).hidden = !on;
  }
  if (name === 'graph') cy?.resize();
}

async function main(): Promise<void> {
  const params = new URLSearchParams(location.search);
  const res = await fetch('/api/data', { credentials: 'same-origin' });
  const initial = (await res.json()) as Initial;
  data = initial.data;
  history = initial.history;
  csrf = initial.csrf;
  const ns = params.get('ns');
  if (ns) {
    const sel = $('ns') as HTMLSelectElement;
    sel.append(new Option(ns, ns));
    sel.value = ns;
  }
  for (const tab of document.querySelectorAll<HTMLButtonElement>('[role=tab]')) tab.addEventListener('click', () => showTab(tab.id.slice(4)));
  $('ns').addEventListener('change', renderAll);
  $('search').addEventListener('input', renderAll);
  ($('config-form') as HTMLFormElement).addEventListener('submit', (ev) => {
    ev.preventDefault();
    void showConfig(($('config-ns') as HTMLInputElement).value, ($('config-target') as HTMLInputElement).value);
  });
  showTab('graph');
  renderAll();
  document.body.dataset.ready = 'true';
  const events = new EventSource('/api/events');
  events.addEventListener('update', (ev) => {
    const u = JSON.parse((ev as MessageEvent<string>).data) as { data: DashboardData; point?: MetricsPoint };
    data = u.data;
    if (u.point) history = [...history, u.point].slice(-150);
    renderAll();
    document.body.dataset.updates = String(Number(document.body.dataset.updates ?? '0') + 1);
    document.dispatchEvent(new CustomEvent('mesh:update'));
  });
  events.addEventListener('error', () => setStatus('connection to the dashboard server lost; retrying…'));
}

void main();
