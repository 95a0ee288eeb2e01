// Issue 7 acceptance 1: a page with the official @snowplow/browser-tracker (and its link-click and
// form-tracking plugins), in Debian's headless Chromium, sends page views, page pings, structured
// and self-describing events to `furrow run`; /micro/good returns them; the dashboard then shows
// the right numbers of page views, visitors and events in its DOM; a screenshot is saved in the
// build directory (dashboard_e2e.png).
import assert from 'node:assert/strict';
import http from 'node:http';
import path from 'node:path';
import {
  buildDir, cleanup, deadline, skipUnlessDashboard, getJson, launchChromium, onCleanup, require, source, startRun,
  until,
} from './dashboard_support.mjs';

deadline(55_000);
const esbuild = require('esbuild');
const { base, port } = await startRun('furrow-dash-e2e-');
await skipUnlessDashboard(base);

// The test site: two pages on another port, the tracker bundled from node_modules at test time.
const bundle = esbuild.buildSync({
  stdin: {
    contents: `import { newTracker, trackPageView, trackStructEvent, trackSelfDescribingEvent,
        enableActivityTracking } from '@snowplow/browser-tracker';
      import { LinkClickTrackingPlugin, enableLinkClickTracking } from '@snowplow/browser-plugin-link-click-tracking';
      import { FormTrackingPlugin, enableFormTracking } from '@snowplow/browser-plugin-form-tracking';
      newTracker('sp', 'http://127.0.0.1:${port}', { appId: 'dash-e2e', eventMethod: 'post',
        bufferSize: 1, plugins: [LinkClickTrackingPlugin(), FormTrackingPlugin()] });
      enableActivityTracking({ minimumVisitLength: 1, heartbeatDelay: 1 });
      trackPageView();
      enableLinkClickTracking();
      enableFormTracking();
      if (location.pathname === '/one') {
        trackStructEvent({ category: 'shop', action: 'add-to-basket', label: 'sku-1', value: 2 });
        trackSelfDescribingEvent({ event: { schema:
          'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1',
          data: { targetUrl: 'https://elsewhere.example/out' } } });
      }
      window.trackerReady = true;`,
    resolveDir: source,
    loader: 'js',
  },
  bundle: true, write: false, format: 'iife', platform: 'browser', logLevel: 'silent',
}).outputFiles[0].text;
const page = (title, body) => `<!doctype html><html><head><meta charset="utf-8">
<title>${title}</title><script src="/tracker.js"></script></head><body>${body}</body></html>`;
const site = http.createServer((req, res) => {
  const send = (type, text) => {
    res.writeHead(200, { 'Content-Type': type });
    res.end(text);
  };
  if (req.url === '/tracker.js') send('text/javascript', bundle);
  else if (req.url === '/one') {
    send('text/html; charset=utf-8', page('Page one', `<p>one</p>
      <form id="f" action="/two" method="get"><input name="q" id="q"><button id="go">Go</button></form>`));
  } else if (req.url.startsWith('/two')) send('text/html; charset=utf-8', page('Page two', '<p>two</p>'));
  else {
    res.writeHead(404);
    res.end();
  }
});
await new Promise((r) => site.listen(0, '127.0.0.1', r));
onCleanup(() => site.close());
const siteUrl = `http://127.0.0.1:${site.address().port}`;

try {
  const browser = await launchChromium();
  const tab = await browser.newPage();
  await tab.goto(`${siteUrl}/one`);
  await tab.waitForFunction(() => window.trackerReady === true);
  // Activity so that page pings go out (heartbeat 1 s).
  for (let i = 0; i < 25; i++) {
    await tab.mouse.move(10 + i * 5, 10 + i * 3);
    await tab.waitForTimeout(100);
  }
  // A form change and submit (form tracking) that navigates to page two: its page view.
  await tab.fill('#q', 'boots');
  await tab.click('#go');
  await tab.waitForURL(/\/two/);
  await tab.waitForFunction(() => window.trackerReady === true);

  // /micro/good has every event type.
  let lastGood;
  const good = await until(async () => {
    const g = await getJson(`${base}/micro/good`);
    lastGood = g.json.map((e) => `${e.eventType}:${e.schema ?? ''}`);
    const types = new Set(g.json.map((e) => e.eventType));
    const pvs = g.json.filter((e) => e.eventType === 'page_view').length;
    const forms = g.json.filter((e) => /submit_form/.test(e.schema ?? '')).length;
    return pvs === 2 && forms >= 1 && types.has('page_ping') && types.has('struct') ? g.json : null;
  }, 20_000, 'page views, pings, structured and self-describing events in /micro/good')
    .catch((e) => { throw new Error(`${e.message}; /micro/good: ${lastGood}`); });
  // A request the tracker retried reaches Micro twice. The SQLite loader keeps one row per
  // (collector_tstamp, event_id, fingerprint) (atomic schema 3, docs/storage.md): a re-sent copy
  // was collected again, at a later collector_tstamp, so it is a second row, as in Snowplow's own
  // loaders; only the same collected event loaded twice (a replay) is one row.
  const unique = [...new Map(good.map((e) => [`${e.event.collector_tstamp}/${e.event.event_id}`, e])).values()];
  const schemas = good.filter((e) => e.eventType === 'unstruct').map((e) => e.schema);
  assert.ok(schemas.some((s) => /link_click/.test(s)), `link_click in ${schemas}`);
  assert.ok(schemas.some((s) => /submit_form/.test(s)), `submit_form in ${schemas}`);
  assert.ok(good.every((e) => e.event.app_id === 'dash-e2e'));
  const bad = await getJson(`${base}/micro/bad`);
  assert.equal(bad.json.length, 0, JSON.stringify(bad.json).slice(0, 2000));
  const expected = {
    page_views: unique.filter((e) => e.eventType === 'page_view').length,
    visitors: new Set(unique.map((e) => e.event.domain_userid)).size,
    events: unique.length,
    struct: unique.filter((e) => e.eventType === 'struct').length,
  };
  assert.equal(expected.visitors, 1);

  // The rollups catch up with what was committed (furrow run refreshes after its commits).
  let lastSummary;
  await until(async () => {
    const s = await getJson(`${base}/api/summary`);
    lastSummary = s.json;
    return s.status === 200 && s.json.current.events === expected.events;
  }, 15_000, `the dashboard API to count ${expected.events} events`)
    .catch((e) => { throw new Error(`${e.message}; last: ${JSON.stringify(lastSummary)}`); });

  // The dashboard, in the browser.
  const dash = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
  const violations = [];
  dash.on('console', (m) => { if (m.type() === 'error') violations.push(m.text()); });
  await dash.goto(`${base}/`);
  await dash.waitForSelector('body[data-loaded="overview"]', { timeout: 15_000 });
  const value = (metric) => dash.getAttribute(`[data-testid="metric-${metric}"] .value`, 'data-value');
  assert.equal(await value('page_views'), String(expected.page_views));
  assert.equal(await value('visitors'), String(expected.visitors));
  assert.equal(await value('events'), String(expected.events));
  assert.equal(await value('sessions'), '1');
  // Shown text, not just attributes.
  assert.equal(await dash.textContent('[data-testid="metric-page_views"] .value'), String(expected.page_views));
  const structured = await dash.textContent('[data-testid="structured-events"]');
  assert.match(structured, /shop/);
  assert.match(structured, /add-to-basket/);
  const selfDescribing = await dash.textContent('[data-testid="self-describing-events"]');
  assert.match(selfDescribing, /link_click/);
  assert.match(selfDescribing, /submit_form/);
  const pages = await dash.textContent('[data-testid="top-pages"]');
  assert.match(pages, /127\.0\.0\.1\/one/);
  assert.match(pages, /127\.0\.0\.1\/two/);
  await until(async () => (await dash.textContent('[data-testid="live-visitors"]')) === '1', 12_000,
              'the live visitor count');
  assert.deepEqual(violations, []);
  const shot = path.join(buildDir, 'dashboard_e2e.png');
  await dash.screenshot({ path: shot, fullPage: true });
  console.log(`dashboard e2e: ${JSON.stringify(expected)}; screenshot ${shot}`);
} finally {
  await cleanup();
}
