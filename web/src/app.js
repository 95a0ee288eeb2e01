// The furrow dashboard: one page, three views (#/ overview, #/bad bad rows, #/pixel pixel
// builder), reading the JSON API (docs/api.md). Strict CSP: this bundle is the only script, no
// inline code, no eval; every tracked string is inserted as text (dom.js).
import {
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
} from 'chart.js';

import { api, AuthRequired, login } from './api.js';
import { clear, el, fmtDuration, fmtInt, fmtPercent } from './dom.js';
import { buildPixel } from './pixel.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, CategoryScale, Tooltip,
               Legend, Filler);

const HOUR = 3600 * 1000;
const RANGES = [
  { id: '24h', label: 'Last 24 hours', ms: 24 * HOUR },
  { id: '7d', label: 'Last 7 days', ms: 7 * 24 * HOUR },
  { id: '30d', label: 'Last 30 days', ms: 30 * 24 * HOUR },
  { id: '90d', label: 'Last 90 days', ms: 90 * 24 * HOUR },
  { id: 'custom', label: 'Custom…' },
];

// Rows per table: ?limit=N in the page URL (1..1000), default 10.
const TABLE_LIMIT = Math.min(1000, Math.max(1,
  Number(new URLSearchParams(window.location.search).get('limit')) || 10));

const state = {
  range: '7d',
  customFrom: '',
  customTo: '',
  appId: '',
  version: '',
  chart: null,
  liveTimer: null,
  loginShown: false,
};

function currentRange() {
  if (state.range === 'custom' && state.customFrom && state.customTo) {
    return { from: state.customFrom + 'Z', to: state.customTo + 'Z' };
  }
  const r = RANGES.find((x) => x.id === state.range) || RANGES[1];
  const to = Math.ceil(Date.now() / HOUR) * HOUR;
  return { from: to - (r.ms || 7 * 24 * HOUR), to };
}

function params(extra = {}) {
  return { ...currentRange(), app_id: state.appId, ...extra };
}

// ---- layout ----
const root = document.getElementById('app');
const main = el('main', { id: 'main' });
const liveValue = el('span', { class: 'live-value', 'data-testid': 'live-visitors' }, '–');
const status = el('div', { class: 'status', role: 'status', 'data-testid': 'status' });
const appSelect = el('select', { id: 'app', 'aria-label': 'App', onchange: () => {
  state.appId = appSelect.value;
  render();
} }, el('option', { value: '' }, 'All apps'));
const rangeSelect = el('select', { id: 'range', 'aria-label': 'Time range', onchange: () => {
  state.range = rangeSelect.value;
  custom.hidden = state.range !== 'custom';
  if (state.range !== 'custom') render();
} }, RANGES.map((r) => el('option', { value: r.id, selected: r.id === state.range }, r.label)));
const fromInput = el('input', { type: 'datetime-local', 'aria-label': 'From (UTC)' });
const toInput = el('input', { type: 'datetime-local', 'aria-label': 'To (UTC)' });
const custom = el('span', { class: 'custom', hidden: true }, fromInput, ' – ', toInput,
  el('button', { type: 'button', onclick: () => {
    state.customFrom = fromInput.value;
    state.customTo = toInput.value;
    render();
  } }, 'Apply'), el('span', { class: 'hint' }, ' UTC'));

const nav = el('nav', {},
  el('a', { href: '#/', 'data-view': 'overview' }, 'Overview'),
  el('a', { href: '#/bad', 'data-view': 'bad' }, 'Bad rows'),
  el('a', { href: '#/pixel', 'data-view': 'pixel' }, 'Pixel'));

root.appendChild(el('header', {},
  el('h1', {}, 'furrow'), nav,
  el('div', { class: 'controls' }, rangeSelect, custom, appSelect),
  el('div', { class: 'live', title: 'Visitors in the last 5 minutes' }, liveValue,
     ' visitors in the last 5 minutes')));
root.appendChild(status);
root.appendChild(main);

function setStatus(text, isError = false) {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

// ---- login ----
function showLogin() {
  if (state.loginShown) return;
  state.loginShown = true;
  const password = el('input', { type: 'password', autocomplete: 'current-password',
                                 'aria-label': 'Password', required: true });
  const message = el('p', { class: 'error' });
  const dialog = el('div', { class: 'login', role: 'dialog', 'aria-modal': 'true',
                             'data-testid': 'login' },
    el('form', { onsubmit: async (e) => {
      e.preventDefault();
      message.textContent = '';
      if (await login(password.value)) {
        dialog.remove();
        state.loginShown = false;
        start();
      } else {
        message.textContent = 'Wrong password.';
      }
    } }, el('h2', {}, 'Sign in to furrow'), password, el('button', { type: 'submit' }, 'Sign in'),
       message));
  document.body.appendChild(dialog);
  password.focus();
}

function handleError(e) {
  if (e instanceof AuthRequired) {
    showLogin();
    return;
  }
  setStatus(String(e.message || e), true);
}

// ---- overview ----
const CARDS = [
  { key: 'visitors', label: 'Visitors', fmt: fmtInt },
  { key: 'page_views', label: 'Page views', fmt: fmtInt },
  { key: 'sessions', label: 'Sessions', fmt: fmtInt },
  { key: 'bounce_rate', label: 'Bounce rate', fmt: fmtPercent, lowerIsBetter: true },
  { key: 'avg_engaged_s', label: 'Avg. engaged time', fmt: fmtDuration },
  { key: 'events', label: 'Events', fmt: fmtInt },
];

function change(cur, prev, lowerIsBetter) {
  if (cur === null || prev === null || cur === undefined || prev === undefined) {
    return el('span', { class: 'change none' }, 'no previous data');
  }
  if (prev === 0) {
    return el('span', { class: 'change none' }, cur === 0 ? 'no change' : 'new');
  }
  const pct = ((cur - prev) / prev) * 100;
  const up = pct > 0;
  const good = pct === 0 ? 'flat' : (up !== !!lowerIsBetter ? 'good' : 'bad');
  return el('span', { class: `change ${good}`, 'data-testid': 'change' },
    `${up ? '▲' : pct < 0 ? '▼' : ''} ${Math.abs(pct).toFixed(1)}% vs previous period`);
}

function cards(summary) {
  return el('section', { class: 'cards' }, CARDS.map((c) => el('div', {
    class: 'card', 'data-metric': c.key, 'data-testid': `metric-${c.key}` },
  el('div', { class: 'label' }, c.label),
  el('div', { class: 'value', 'data-value': summary.current[c.key] ?? '' },
     c.fmt(summary.current[c.key])),
  change(summary.current[c.key], summary.previous[c.key], c.lowerIsBetter))));
}

function table(title, testid, columns, rows, countLabel) {
  const body = rows.length === 0
    ? el('tr', {}, el('td', { colspan: columns.length + 1, class: 'empty' }, 'No data'))
    : rows.map((r) => el('tr', {}, columns.map((c) => el('td', { class: 'text' },
        r[c.key] === '' ? '(none)' : r[c.key])), el('td', { class: 'num' }, fmtInt(r.count))));
  return el('section', { class: 'panel', 'data-testid': testid },
    el('h2', {}, title),
    el('table', {},
      el('thead', {}, el('tr', {}, columns.map((c) => el('th', {}, c.label)),
                         el('th', { class: 'num' }, countLabel))),
      el('tbody', {}, body)));
}

function timeseriesChart(ts) {
  const canvas = el('canvas', { 'aria-label': 'Visitors and page views over time', role: 'img' });
  const labels = ts.buckets.map((b) => {
    const d = new Date(b.t);
    return ts.interval === 'hour'
      ? d.toISOString().slice(5, 13).replace('T', ' ') + ':00'
      : d.toISOString().slice(0, 10);
  });
  if (state.chart) state.chart.destroy();
  state.chart = null;
  const section = el('section', { class: 'panel chart', 'data-testid': 'timeseries' },
    el('h2', {}, `Visitors and page views (per ${ts.interval}, UTC)`),
    el('div', { class: 'chart-box' }, canvas));
  // Chart.js measures its canvas: create the chart once the section is in the document.
  const draw = () => { state.chart = new Chart(canvas, {
    type: 'line',
    data: {
      labels,
      datasets: [
        { label: 'Page views', data: ts.buckets.map((b) => b.page_views), borderColor: '#2f6fde',
          backgroundColor: 'rgba(47,111,222,0.12)', fill: true, tension: 0.25, pointRadius: 0 },
        { label: 'Visitors', data: ts.buckets.map((b) => b.visitors), borderColor: '#e07a1f',
          tension: 0.25, pointRadius: 0 },
      ],
    },
    options: {
      animation: false,
      maintainAspectRatio: false,
      interaction: { mode: 'index', intersect: false },
      scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
    },
  }); };
  return { section, draw };
}

async function renderOverview(token) {
  const p = params({ limit: TABLE_LIMIT });
  const [summary, ts, pages, entry, exit, refs, terms, camps, countries, browsers, os, devices,
         events] = await Promise.all([
    api('summary', p), api('timeseries', p), api('pages', p), api('entry-pages', p),
    api('exit-pages', p), api('referrers', p), api('search-terms', p), api('campaigns', p),
    api('countries', p), api('browsers', p), api('os', p), api('devices', p), api('events', p)]);
  if (token !== renderToken) return;
  clear(main);
  main.appendChild(cards(summary));
  const chart = timeseriesChart(ts);
  main.appendChild(chart.section);
  chart.draw();
  const page = [{ key: 'page', label: 'Page' }];
  main.appendChild(el('div', { class: 'grid' },
    table('Top pages', 'top-pages', page, pages.rows, 'Page views'),
    table('Entry pages', 'entry-pages', page, entry.rows, 'Sessions'),
    table('Exit pages', 'exit-pages', page, exit.rows, 'Sessions'),
    table('Referrers', 'referrers', [{ key: 'medium', label: 'Medium' },
                                     { key: 'source', label: 'Source' }], refs.rows, 'Sessions'),
    table('Search terms', 'search-terms', [{ key: 'term', label: 'Term' }], terms.rows,
          'Sessions'),
    table('Campaigns', 'campaigns', [{ key: 'source', label: 'Source' },
                                     { key: 'medium', label: 'Medium' },
                                     { key: 'campaign', label: 'Campaign' }], camps.rows,
          'Sessions'),
    table('Countries', 'countries', [{ key: 'country', label: 'Country' }], countries.rows,
          'Sessions'),
    table('Browsers', 'browsers', [{ key: 'browser', label: 'Browser' }], browsers.rows,
          'Sessions'),
    table('Operating systems', 'os', [{ key: 'os', label: 'OS' }], os.rows, 'Sessions'),
    table('Devices', 'devices', [{ key: 'device', label: 'Device' }], devices.rows, 'Sessions'),
    table('Structured events', 'structured-events', [{ key: 'category', label: 'Category' },
                                                     { key: 'action', label: 'Action' }],
          events.structured, 'Events'),
    table('Self-describing events', 'self-describing-events',
          [{ key: 'schema', label: 'Schema' }], events.self_describing, 'Events')));
}

// ---- bad rows ----
async function renderBad(token) {
  const data = await api('bad-rows', params({ limit: 50 }));
  if (token !== renderToken) return;
  clear(main);
  main.appendChild(el('section', { class: 'cards' }, el('div', {
    class: 'card', 'data-testid': 'metric-bad_rows' },
  el('div', { class: 'label' }, 'Bad rows'),
  el('div', { class: 'value', 'data-value': data.total }, fmtInt(data.total)))));
  main.appendChild(table('By failure type', 'bad-by-type',
                         [{ key: 'failure_type', label: 'Failure type' }], data.by_type, 'Rows'));
  const list = el('section', { class: 'panel', 'data-testid': 'bad-latest' },
    el('h2', {}, 'Latest bad rows'));
  if (data.latest.length === 0) list.appendChild(el('p', { class: 'empty' }, 'No bad rows'));
  for (const r of data.latest) {
    list.appendChild(el('article', { class: 'bad-row' },
      el('h3', {}, r.failure_type || '(unknown type)', el('span', { class: 'when' },
                                                          ' ', r.failure_tstamp)),
      el('div', { class: 'schema' }, r.schema),
      el('ul', {}, r.messages.map((m) => el('li', {}, el('pre', {}, m))))));
  }
  main.appendChild(list);
}

// ---- pixel ----
function renderPixel() {
  clear(main);
  const field = (label, attrs) => {
    const input = el('input', attrs);
    return [el('label', {}, label, input), input];
  };
  const [lCollector, collector] = field('Collector URL', {
    type: 'url', value: window.location.origin, required: true });
  const [lApp, app] = field('App id', { value: state.appId || 'email', required: true });
  const kind = el('select', { 'aria-label': 'Event' },
    el('option', { value: 'pv' }, 'Page view'),
    el('option', { value: 'se' }, 'Structured event'));
  const [lTitle, title] = field('Page title', { value: '' });
  const [lUrl, pageUrl] = field('Page URL', { value: '' });
  const [lCat, category] = field('Category', { value: '' });
  const [lAct, action] = field('Action', { value: '' });
  const [lLab, label] = field('Label', { value: '' });
  const [lProp, property] = field('Property', { value: '' });
  const [lVal, value] = field('Value', { value: '', inputmode: 'decimal' });
  const seFields = el('div', { class: 'se-fields', hidden: true }, lCat, lAct, lLab, lProp, lVal);
  const tagOut = el('pre', { class: 'output', 'data-testid': 'pixel-tag' });
  const urlOut = el('pre', { class: 'output', 'data-testid': 'pixel-url' });
  const error = el('p', { class: 'error', 'data-testid': 'pixel-error' });
  const update = () => {
    seFields.hidden = kind.value !== 'se';
    const r = buildPixel({
      collector: collector.value.trim(), appId: app.value, event: kind.value,
      pageTitle: title.value, pageUrl: pageUrl.value, category: category.value,
      action: action.value, label: label.value, property: property.value, value: value.value,
    }, state.version);
    error.textContent = r.error || '';
    tagOut.textContent = r.error ? '' : r.imgTag;  // text, never parsed as HTML
    urlOut.textContent = r.error ? '' : r.url;
  };
  const form = el('form', { class: 'pixel-form', oninput: update, onchange: update,
                            onsubmit: (e) => e.preventDefault() },
    lCollector, lApp, el('label', {}, 'Event', kind), lTitle, lUrl, seFields);
  const copy = el('button', { type: 'button', onclick: () => {
    if (navigator.clipboard) navigator.clipboard.writeText(tagOut.textContent);
  } }, 'Copy tag');
  main.appendChild(el('section', { class: 'panel', 'data-testid': 'pixel' },
    el('h2', {}, 'Email pixel'),
    el('p', {}, 'Builds an <img> tag that records one event each time a mail client loads it ' +
                '(the same tag as `furrow pixel`). It has no event id on purpose: every open ' +
                'counts.'),
    form, error, el('h3', {}, 'Tag'), tagOut, copy, el('h3', {}, 'URL'), urlOut));
  update();
}

// ---- live ----
async function refreshLive() {
  try {
    const live = await api('live', { app_id: state.appId });
    liveValue.textContent = fmtInt(live.visitors);
  } catch (e) {
    if (e instanceof AuthRequired) showLogin();
  }
}

// ---- routing ----
let renderToken = 0;
function view() {
  const h = window.location.hash;
  if (h.startsWith('#/bad')) return 'bad';
  if (h.startsWith('#/pixel')) return 'pixel';
  return 'overview';
}

async function render() {
  const token = ++renderToken;
  const v = view();
  for (const a of nav.querySelectorAll('a')) {
    a.classList.toggle('active', a.getAttribute('data-view') === v);
  }
  document.body.removeAttribute('data-loaded');
  setStatus('Loading…');
  try {
    if (v === 'pixel') renderPixel();
    else if (v === 'bad') await renderBad(token);
    else await renderOverview(token);
    if (token !== renderToken) return;
    setStatus('');
    document.body.setAttribute('data-loaded', v);
  } catch (e) {
    if (token === renderToken) handleError(e);
  }
}

async function loadApps() {
  const apps = await api('apps');
  state.version = apps.furrow_version || '';
  const keep = state.appId;
  clear(appSelect).appendChild(el('option', { value: '' }, 'All apps'));
  for (const a of apps.apps) {
    appSelect.appendChild(el('option', { value: a.app_id, selected: a.app_id === keep },
                             a.app_id === '' ? '(no app id)' : a.app_id));
  }
}

async function start() {
  try {
    await loadApps();
  } catch (e) {
    handleError(e);
    return;
  }
  await render();
  refreshLive();
  if (!state.liveTimer) state.liveTimer = setInterval(refreshLive, 10000);
}

window.addEventListener('hashchange', render);
start();
