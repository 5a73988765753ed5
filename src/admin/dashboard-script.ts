/**
 * The dashboard's browser script, as text (dashboard-page.ts inlines it; its SHA-256 is the one
 * script the page's Content-Security-Policy allows). It polls ./state.json once a second and
 * redraws: no framework, no external asset, so the page works offline and on an air-gapped host.
 *
 * NOTE: every value from state.json reaches the page through textContent or an SVG attribute,
 * never innerHTML: service names, endpoint ids and config issues are text someone else wrote.
 */
export const DASHBOARD_SCRIPT = `
'use strict';
const path = location.pathname;
const base = path.endsWith('/') ? path : path.endsWith('/index.html') ? path.slice(0, -10) : path + '/';
const query = new URLSearchParams(location.search);
// As the server reads it: a '+' the query decoding made a space is the token's own '+' (tokens have no spaces).
const token = query.has('token') ? query.get('token').replaceAll(' ', '+') : null;
// The token leaves the address bar (and any screenshot or shared link) once read.
if (token !== null) history.replaceState(null, '', path);
const headers = token === null ? {} : { authorization: 'Bearer ' + token };
document.getElementById('state-link').href = base + 'state.json';
document.getElementById('config-link').href = base + 'config.json';

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) if (value !== undefined && value !== null) node.setAttribute(name, String(value));
  for (const child of children) if (child !== undefined && child !== null) node.append(child instanceof Node ? child : String(child));
  return node;
}
const pct = (v) => (v === null || v === undefined ? '–' : (v * 100).toFixed(1) + '%');
const num = (v, unit) => (v === null || v === undefined || v === false ? '–' : String(v) + (unit || ''));
const ms = (v) => (typeof v === 'number' ? (v >= 1000 ? (v / 1000).toFixed(1) + ' s' : v + ' ms') : 'off');
const age = (iso) => (iso ? Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000)) + ' s ago' : '–');
// The balancer's estimate decays toward 0 while an endpoint is idle (so it is probed again); the mean is what it answered in.
const HEADER_TITLES = { EWMA: "the balancer's peak-EWMA latency estimate: it decays toward 0 while nobody calls the endpoint", latency: 'mean duration of its answered attempts over the stats window' };
const rateClass = (v) => (v === null || v === undefined ? '' : v >= 0.99 ? 'ok' : v >= 0.9 ? 'warn' : 'bad');

function sparkline(calls, failures) {
  const ns = 'http://www.w3.org/2000/svg';
  const svg = document.createElementNS(ns, 'svg');
  svg.setAttribute('viewBox', '0 0 120 30');
  svg.setAttribute('class', 'spark');
  const max = Math.max(1, ...calls);
  // Failures first, so the calls line stays visible where they are equal.
  for (const [series, cls] of [[failures, 'fails'], [calls, 'calls']]) {
    const line = document.createElementNS(ns, 'polyline');
    line.setAttribute('points', series.map((v, i) => (i * 2).toFixed(0) + ',' + (29 - (v / max) * 28).toFixed(1)).join(' '));
    line.setAttribute('class', cls);
    svg.append(line);
  }
  return svg;
}

function kv(pairs) {
  return el('dl', {}, ...pairs.flatMap(([k, v, cls]) => [el('dt', {}, k), el('dd', { class: cls }, v)]));
}

function serviceCard(name, s) {
  const t = s.thresholds || {};
  const st = s.stats || {};
  const lat = st.latencyMs || {};
  const breaker = s.breaker ? s.breaker.state : 'off';
  const b = t.breaker;
  const conc = s.concurrency;
  const rate = s['rate-limit'];
  const budget = s.budget || {};
  const card = el('section', { class: 'card', 'data-service': name },
    el('h2', {}, name, ' ', el('span', { class: 'badge breaker-' + breaker, 'data-breaker': breaker }, 'breaker ' + breaker),
      s.panic ? el('span', { class: 'badge bad' }, 'panic') : null),
    st.history ? sparkline(st.history.calls, st.history.failures) : null,
    kv([
      ['calls/s (logical)', num(st.callsPerSecond)], ['success (logical)', pct(st.successRate), rateClass(st.successRate)],
      ['attempts/s', num(st.attemptsPerSecond)], ['success (per attempt)', pct(st.attemptSuccessRate), rateClass(st.attemptSuccessRate)],
      ['hedges/s', num(st.hedgesPerSecond)], ['refused/s', num(st.refusedPerSecond)],
      ['p50 / p95 / p99', lat.samples ? lat.p50 + ' / ' + lat.p95 + ' / ' + lat.p99 + ' ms' : '–'],
      ['in flight', num(s.inFlight)], ['queued', conc ? num(conc.queued) : '–'],
      ['breaker trips at', b ? pct(b.errorRate) + ' errors of ≥' + b.minRequests + ' in ' + ms(b.window) + ', open ' + ms(b.openFor) : 'off'],
      ['retry budget left', budget.enabled ? num(budget.available) : 'off'],
      ['rate limit', rate ? rate.rps + ' rps (' + rate.scope + '), ' + rate.tokens + ' tokens, ' + rate.shed + ' shed' : 'off'],
      ['concurrency', conc ? (conc.adaptive ? 'adaptive ' : '') + conc.inFlight + ' / ' + conc.limit + ', ' + conc.shed + ' shed' : 'off'],
      ['timeout / per try', ms(t.timeoutMs) + ' / ' + ms(t.perTryTimeoutMs)],
      ['balancer', s.balancer],
    ]));
  if (s.routes) {
    card.append(el('h3', {}, 'routes'), el('table', {}, el('tr', {}, el('th', {}, 'route'), el('th', {}, 'target'), el('th', {}, 'weight'), el('th', {}, 'served by')),
      ...s.routes.flatMap((r) => r.targets.map((x) => el('tr', {}, el('td', {}, r.name), el('td', {}, x.service + (x.subset ? '/' + x.subset : '')), el('td', {}, x.weight + '%'), el('td', {}, x.servedBy || 'nothing'))))));
  }
  const eps = (st.endpoints || {});
  card.append(el('h3', {}, 'endpoints'), el('table', {},
    el('tr', {}, ...['endpoint', 'health', 'weight', 'active', 'EWMA', 'latency', 'success', 'requests / failures'].map((h) => el('th', { title: HEADER_TITLES[h] || '' }, h))),
    ...(s.endpoints || []).map((e) => el('tr', { 'data-endpoint': e.id, 'data-health': e.healthy ? 'healthy' : 'ejected' },
      el('td', {}, e.id), el('td', { class: e.healthy ? 'ok' : 'bad' }, e.healthy ? 'healthy' : 'ejected: ' + (e.ejectReason || 'unhealthy')),
      el('td', {}, e.weight), el('td', {}, e.inFlight), el('td', {}, e.ewmaMs + ' ms'), el('td', { 'data-latency': '' }, eps[e.id] && eps[e.id].latencyMs !== null ? eps[e.id].latencyMs + ' ms' : '–'),
      el('td', { class: rateClass(eps[e.id] ? eps[e.id].successRate : null) }, pct(eps[e.id] ? eps[e.id].successRate : null)),
      el('td', {}, e.requests + ' / ' + e.failures)))));
  if (s.discoveryError) card.append(el('p', { class: 'bad' }, 'discovery: ' + s.discoveryError));
  return card;
}

function configSection(c) {
  const control = c.control || {};
  const rejected = c.lastRejected;
  return el('section', { class: 'card wide', id: 'config' },
    el('h2', {}, 'config'),
    kv([
      ['version', c.version + ' from ' + c.source + ', applied ' + age(c.appliedAt)],
      ['control store', control.source + ': ' + control.status + (control.lastError ? ' (' + control.lastError + ')' : ''), control.status === 'unavailable' ? 'bad' : 'ok'],
      ['cached copy', control.cache ? 'from ' + control.cache.readFrom + ', saved ' + Math.round(control.cache.ageMs / 1000) + ' s ago' : 'not in use'],
      ['rejections', String(c.rejections), c.rejections ? 'warn' : ''],
    ]),
    rejected ? el('div', { class: 'rejected' }, el('h3', {}, 'last rejected: from ' + rejected.source + ' at ' + rejected.at),
      el('ul', {}, ...rejected.issues.map((i) => el('li', {}, (i.path || '(document)') + ': ' + i.message)))) : null,
    el('h3', {}, 'history'),
    el('table', {}, el('tr', {}, el('th', {}, 'version'), el('th', {}, 'source'), el('th', {}, 'at'), el('th', {}, 'changed')),
      ...(c.history || []).slice().reverse().map((h) => el('tr', {}, el('td', {}, h.version), el('td', {}, h.source), el('td', {}, h.at), el('td', {}, h.changedServices.join(', '))))));
}

function render(state) {
  document.getElementById('mesh').textContent = state.service + (state.closed ? ' (closed)' : '');
  const services = Object.entries(state.services || {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const main = el('main', { id: 'services' }, ...services.map(([name, s]) => serviceCard(name, s)), configSection(state.config || {}),
    el('section', { class: 'card wide', id: 'events' }, el('h2', {}, 'recent events'),
      el('ul', {}, ...(state.events || []).slice(-30).reverse().map((e) => el('li', { class: 'event-' + e.kind }, e.at.slice(11, 19) + ' ' + e.kind + (e.service ? ' ' + e.service : '') + ': ' + e.detail + (e.count > 1 ? ' (×' + e.count + ')' : ''))))));
  document.getElementById('services').replaceWith(main);
  document.getElementById('status').textContent = 'live · window ' + state.statsWindowSeconds + ' s · ' + new Date().toLocaleTimeString();
}

async function poll() {
  try {
    const res = await fetch(base + 'state.json', { headers, cache: 'no-store' });
    if (!res.ok) throw new Error('state.json answered ' + res.status);
    render(await res.json());
    document.body.classList.remove('offline');
  } catch (error) {
    document.body.classList.add('offline');
    document.getElementById('status').textContent = 'disconnected: ' + error.message;
  }
  setTimeout(poll, 1000);
}
poll();
`;
