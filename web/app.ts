// The dashboard page: draws what the server's data API and SSE stream send (src/dashboard/model.ts
// defines the shapes). It never computes mesh semantics itself. Text goes in through textContent
// only, so names from the cluster cannot inject markup.
import cytoscape from 'cytoscape';
import uPlot from 'uplot';
import type { DashboardData, GraphEdge, GraphNode } from '../src/dashboard/model.js';
import type { HistoryPoint } from '../src/dashboard/hub.js';

interface Initial {
  data: DashboardData;
  csrf: string | null;
}

/** Above this many elements the graph drops what costs most to draw: edge labels (shown on the selected node's edges) and curves. */
const LARGE = 600;
/** Rows a table shows before it asks for a filter: thousands of rows re-rendered every refresh would cost more than they tell. */
const MAX_ROWS = 300;

/** When rows were left out, a last row saying how many and how to see them. */
function capNote(body: HTMLTableSectionElement, total: number, cols: number): void {
  if (total <= MAX_ROWS) return;
  const c = cell(body.insertRow(), `${total - MAX_ROWS} more not shown: pick a namespace or search by name.`);
  c.colSpan = cols;
}

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const HEALTH_COLOUR: Record<string, string> = { ok: '#1a7f37', warn: '#9a6700', bad: '#cf222e', unknown: '#57606a' };
const KIND_SHAPE: Record<string, cytoscape.Css.NodeShape> = { svc: 'round-rectangle', deploy: 'ellipse', sts: 'ellipse', ds: 'ellipse', gateway: 'diamond' };

let data: DashboardData;
/** The selected node's time series: fetched when it is opened, then one point per update with new metrics. */
let history: HistoryPoint[] = [];
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

/** A padlock drawn in SVG (no emoji font needed), with the word for screen readers and the tests. */
function lockIcon(): HTMLSpanElement {
  const span = document.createElement('span');
  span.className = 'lock';
  span.title = 'mTLS on every connection';
  const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
  svg.setAttribute('viewBox', '0 0 16 16');
  svg.setAttribute('width', '14');
  svg.setAttribute('height', '14');
  svg.setAttribute('aria-hidden', 'true');
  const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
  path.setAttribute('d', 'M4 7V5a4 4 0 0 1 8 0v2h1v8H3V7h1zm2 0h4V5a2 2 0 0 0-4 0v2z');
  path.setAttribute('fill', '#1a7f37');
  svg.append(path);
  const text = document.createElement('span');
  text.className = 'visually-hidden';
  text.textContent = 'mTLS';
  span.append(svg, text);
  return span;
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
  return `${num(m.rps)} rps · ${pct(m.successRate)} · p99 ${num(m.p99Ms, 'ms')}${m.mtls !== null && m.mtls >= 0.999 ? ' · mTLS' : ''}`;
}

function visible(): { nodes: GraphNode[]; edges: GraphEdge[] } {
  const nodes = data.nodes.filter(matches);
  const ids = new Set(nodes.map((n) => n.id));
  return { nodes, edges: data.edges.filter((e) => ids.has(e.source) && ids.has(e.target)) };
}

function renderGraph(): void {
  const { nodes, edges } = visible();
  const large = nodes.length + edges.length > LARGE;
  const elements: cytoscape.ElementDefinition[] = [
    ...nodes.map((n) => ({ group: 'nodes' as const, data: { id: n.id, label: n.kind === 'svc' ? n.name : `${n.name} (${n.kind})`, colour: HEALTH_COLOUR[n.health], shape: KIND_SHAPE[n.kind] }, classes: large ? 'fast' : '' })),
    ...edges.map((e) => ({ group: 'edges' as const, data: { id: e.id, source: e.source, target: e.target, label: edgeLabel(e), colour: HEALTH_COLOUR[e.health], kind: e.kind }, classes: large ? 'fast' : '' })),
  ];
  const key = [...nodes.map((n) => n.id), ...edges.map((e) => e.id)].join('\n');
  const started = performance.now();
  if (!cy) {
    cy = cytoscape({
      container: $('graph'),
      elements,
      // Fast on large graphs: no animation, textures while panning, edges hidden while moving.
      textureOnViewport: true,
      hideEdgesOnViewport: elements.length > LARGE,
      pixelRatio: 1,
      minZoom: 0.05,
      maxZoom: 4,
      style: [
        { selector: 'node', style: { label: 'data(label)', 'background-color': 'data(colour)', shape: 'data(shape)' as unknown as cytoscape.Css.NodeShape, 'font-size': 11, color: '#1f2328', 'text-valign': 'bottom', 'text-margin-y': 4, width: 22, height: 22 } },
        { selector: 'node', style: { 'min-zoomed-font-size': 8 } },
        { selector: 'edge', style: { width: 2, 'line-color': 'data(colour)', 'target-arrow-color': 'data(colour)', 'target-arrow-shape': 'triangle', 'curve-style': 'bezier', label: 'data(label)', 'font-size': 10, 'min-zoomed-font-size': 8, color: '#1f2328', 'text-background-color': '#ffffff', 'text-background-opacity': 0.85, 'text-background-padding': '2px' } },
        { selector: 'edge.fast', style: { 'curve-style': 'straight', label: '' } },
        // Large graphs: names only once zoomed in enough to read them (measuring 1,000 labels up front costs seconds).
        { selector: 'node.fast', style: { label: '' } },
        { selector: 'node.fast.near, node.fast:selected', style: { label: 'data(label)' } },
        { selector: 'edge.fast.focus', style: { label: 'data(label)' } },
        { selector: 'edge[kind = "selects"]', style: { 'line-style': 'dashed', width: 1, 'target-arrow-shape': 'none' } },
        { selector: 'node:selected', style: { 'border-width': 3, 'border-color': '#0969da' } },
      ],
    });
    cy.on('tap', 'node', (ev) => void select(ev.target.id() as string));
    cy.on('zoom', () => {
      const near = cy!.zoom() >= 0.8;
      if (near !== cy!.scratch('near')) {
        cy!.scratch('near', near);
        cy!.batch(() => void (near ? cy!.nodes('.fast').addClass('near') : cy!.nodes('.near').removeClass('near')));
      }
    });
  } else if (key !== layoutKey) {
    const c = cy;
    c.batch(() => {
      c.elements().remove();
      c.add(elements);
    });
  } else {
    // Same elements: only labels and colours change, positions stay where the user left them.
    const c = cy;
    c.batch(() => {
      for (const e of elements) c.getElementById(e.data.id!).data(e.data);
    });
  }
  if (key !== layoutKey) {
    layoutKey = key;
    const roots = cy.nodes().filter((n) => n.indegree(false) === 0);
    const tl = performance.now();
    cy.layout({ name: 'breadthfirst', directed: true, roots, spacingFactor: 1.1, animate: false, fit: true, padding: 20 } as cytoscape.LayoutOptions).run();
    document.body.dataset.timings += ` init ${Math.round(tl - started)} layout ${Math.round(performance.now() - tl)}`;
  }
  const g = $('graph');
  g.dataset.nodes = String(cy.nodes().length);
  g.dataset.edges = String(cy.edges().length);
  g.dataset.renderMs = String(Math.round(performance.now() - started));
  g.dataset.firstRenderMs ??= g.dataset.renderMs;
}

function renderTables(): void {
  const { nodes, edges } = visible();
  const eb = ($('edges') as HTMLTableElement).tBodies[0]!;
  eb.replaceChildren();
  for (const e of edges.slice(0, MAX_ROWS)) {
    const r = eb.insertRow();
    r.dataset.edge = e.id;
    cell(r, e.source);
    cell(r, e.target);
    cell(r, e.kind === 'route' || e.kind === 'ingress' ? `${e.kind} ${e.percent ?? '-'}%` : e.kind);
    cell(r, num(e.metrics?.rps));
    cell(r, pct(e.metrics?.successRate), `health-${e.health}`);
    cell(r, num(e.metrics?.p99Ms, ' ms'));
    const mtls = e.metrics?.mtls;
    if (mtls !== undefined && mtls !== null && mtls >= 0.999) r.insertCell().append(lockIcon());
    else cell(r, mtls === undefined || mtls === null ? '-' : pct(mtls));
  }
  capNote(eb, edges.length, 7);
  const nb = ($('nodes') as HTMLTableElement).tBodies[0]!;
  nb.replaceChildren();
  for (const n of nodes.slice(0, MAX_ROWS)) {
    const r = nb.insertRow();
    r.dataset.node = n.id;
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'link';
    b.textContent = n.name;
    b.addEventListener('click', () => void select(n.id));
    r.insertCell().append(b);
    cell(r, n.kind);
    cell(r, n.namespace);
    cell(r, num(n.metrics?.rps));
    cell(r, pct(n.metrics?.successRate), `health-${n.health}`);
    cell(r, num(n.metrics?.p99Ms, ' ms'));
  }
  capNote(nb, nodes.length, 6);
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

function series(): [number[], (number | null)[], (number | null)[], (number | null)[]] {
  return [history.map((p) => p.t / 1000), history.map((p) => p.rps), history.map((p) => (p.successRate === null ? null : p.successRate * 100)), history.map((p) => p.p99Ms)];
}

function renderService(): void {
  const panel = $('service');
  const n = selected ? data.nodes.find((x) => x.id === selected) : undefined;
  panel.hidden = !n;
  if (!n) return;
  $('service-title').textContent = `${n.kind} ${n.namespace}/${n.name}`;
  $('service-now').textContent = n.metrics ? `now: ${num(n.metrics.rps)} rps, ${pct(n.metrics.successRate)} success, p99 ${num(n.metrics.p99Ms, ' ms')}` : data.mode === 'offline' ? 'offline: no metrics' : 'no traffic measured yet';
  const [t, rps, ok, p99] = series();
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

async function select(id: string): Promise<void> {
  selected = id;
  cy?.$(':selected').unselect();
  cy?.edges('.focus').removeClass('focus');
  cy?.getElementById(id).select().connectedEdges().addClass('focus');
  const res = await fetch(`/api/history?node=${encodeURIComponent(id)}`, { credentials: 'same-origin' });
  history = res.ok ? ((await res.json()) as HistoryPoint[]) : [];
  renderService();
}

/** Append the selected node's newest metrics to its series (once per metrics reading). */
function extendHistory(previousAt: number | null): void {
  if (!selected || data.metricsAt === null || data.metricsAt === previousAt) return;
  const m = data.nodes.find((n) => n.id === selected)?.metrics;
  if (m && history.at(-1)?.t !== data.metricsAt) history = [...history, { t: data.metricsAt, ...m }].slice(-150);
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
  const t0 = performance.now();
  renderGraph();
  const t1 = performance.now();
  renderTables();
  const t2 = performance.now();
  renderService();
  document.body.dataset.timings = `${document.body.dataset.timings ?? ''} graph ${Math.round(t1 - t0)} tables ${Math.round(t2 - t1)};`;
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
  document.body.dataset.timings = `data ${Math.round(performance.now())};`;
  data = initial.data;
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
  document.body.dataset.timings += ` ready ${Math.round(performance.now())};`;
  const events = new EventSource('/api/events');
  events.addEventListener('update', (ev) => {
    const previousAt = data.metricsAt;
    data = JSON.parse((ev as MessageEvent<string>).data) as DashboardData;
    extendHistory(previousAt);
    renderAll();
    document.body.dataset.updates = String(Number(document.body.dataset.updates ?? '0') + 1);
    document.dispatchEvent(new CustomEvent('mesh:update'));
  });
  events.addEventListener('error', () => setStatus('connection to the dashboard server lost; retrying…'));
}

void main();
