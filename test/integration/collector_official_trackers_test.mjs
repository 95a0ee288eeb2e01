// Issue #3 acceptance 3: Snowplow's official trackers talk to `furrow collector`.
// @snowplow/node-tracker (one POST and one GET emitter) and @snowplow/browser-tracker (bundled by
// esbuild, run in Debian's headless Chromium through playwright-core, page served by this test on
// another origin, so CORS with credentials is exercised) send a page view, a structured event
// and a self-describing event each. `furrow enrich` on the collector's raw log must give exactly
// those nine events as good events, with their types, fields and schema, and no bad row.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const source = process.env.FURROW_SOURCE_DIR ?? path.resolve(new URL('../..', import.meta.url).pathname);
const bin = process.env.FURROW_BIN ?? path.join(source, 'build/release/furrow');
const shared = process.env.FURROW_SHARED ?? path.join(source, '../shared');
const require = createRequire(path.join(source, 'package.json'));
const { transform } = require('snowplow-analytics-sdk');
const { chromium } = require('playwright-core');
const esbuild = require('esbuild');
const nodeTracker = require('@snowplow/node-tracker');

const kLinkClick = 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1';
const cleanups = [];
const cleanup = () => {
  while (cleanups.length) {
    try {
      cleanups.pop()();
    } catch {
      // keep cleaning up
    }
  }
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(1));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'furrow-official-'));
cleanups.push(() => fs.rmSync(work, { recursive: true, force: true }));
const rawDir = path.join(work, 'raw');

async function startCollector() {
  const child = spawn(bin, ['collector', '--host', '127.0.0.1', '--port', '0', '--threads', '1',
    '--sink', `rawlog:${rawDir}`, '--durability', 'fsync'], { stdio: ['ignore', 'ignore', 'pipe'] });
  cleanups.push(() => child.exitCode === null && child.kill('SIGKILL'));
  let err = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('collector did not start: ' + err)), 15000);
    child.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/listening on 127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`collector exited ${code}: ${err}`)));
  });
  return {
    port,
    async stop() {
      const exited = new Promise((r) => child.on('exit', (code) => r(code)));
      child.kill('SIGTERM');
      const code = await Promise.race([exited, sleep(10000).then(() => 'timeout')]);
      assert.equal(code, 0, `collector exit on SIGTERM: ${code} ${err}`);
    },
  };
}

async function startPage(collectorUrl) {
  const bundle = esbuild.buildSync({
    stdin: {
      contents: `import { newTracker, trackPageView, trackStructEvent, trackSelfDescribingEvent } from '@snowplow/browser-tracker';
        window.official = { newTracker, trackPageView, trackStructEvent, trackSelfDescribingEvent };`,
      resolveDir: source,
      loader: 'js',
    },
    bundle: true, write: false, format: 'iife', platform: 'browser', logLevel: 'silent',
  }).outputFiles[0].text;
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Official browser tracker</title>
<script src="/tracker.js"></script><script>
official.newTracker('sp', '${collectorUrl}', { appId: 'official-browser', eventMethod: 'post', bufferSize: 1 });
official.trackPageView();
official.trackStructEvent({ category: 'shop', action: 'add-to-basket', label: 'sku-1', property: 'red', value: 2.5 });
official.trackSelfDescribingEvent({ event: { schema: '${kLinkClick}', data: { targetUrl: 'https://browser.example/out' } } });
</script></head><body>hello</body></html>`;
  const server = http.createServer((req, res) => {
    if (req.url === '/tracker.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(bundle);
    } else if (req.url === '/page') {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(html);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => server.close());
  return `http://127.0.0.1:${server.address().port}/page`;
}

async function browserSends(pageUrl, collectorPort) {
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless',
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'] });
  cleanups.push(() => browser.close());
  const tab = await browser.newPage();
  // The tracker may batch: count the events in the POST bodies the collector answered.
  const statuses = [];
  let events = 0;
  tab.on('response', (r) => {
    const req = r.request();
    if (new URL(r.url()).port !== String(collectorPort) || req.method() !== 'POST') return;
    statuses.push(r.status());
    if (r.status() === 200) events += JSON.parse(req.postData()).data.length;
  });
  await tab.goto(pageUrl);
  const end = Date.now() + 20000;
  while (events < 3 && Date.now() < end) await sleep(100);
  assert.equal(events, 3, `the collector acknowledged the browser's three events (statuses ${statuses})`);
  assert.ok(statuses.every((s) => s === 200), `statuses ${statuses}`);
  await browser.close();
}

async function nodeSends(collectorUrl) {
  const { newTracker, buildPageView, buildStructEvent, buildSelfDescribingEvent } = nodeTracker;
  for (const method of ['post', 'get']) {
    const failures = [];
    const t = newTracker({ namespace: `node-${method}`, appId: `official-node-${method}` }, {
      endpoint: collectorUrl, eventMethod: method, bufferSize: 1,
      onRequestFailure: (f) => failures.push(f),
    });
    t.track(buildPageView({ pageUrl: `https://node.example/${method}?q=1`, pageTitle: `Node ${method} page` }));
    t.track(buildStructEvent({ category: 'shop', action: `checkout-${method}`, label: 'order-7', value: 99 }));
    t.track(buildSelfDescribingEvent({ event: { schema: kLinkClick, data: { targetUrl: `https://node.example/${method}/out` } } }));
    await t.flush();
    assert.deepEqual(failures, [], `node tracker (${method}) request failures`);
  }
}

function enrich() {
  const resolver = path.join(work, 'resolver.json');
  fs.writeFileSync(resolver, JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3',
    data: { cacheSize: 500, cacheTtl: 600, repositories: [
      { name: 'Iglu Central', priority: 0, vendorPrefixes: [], connection: { embedded: { path: path.join(shared, 'iglu-central') } } },
    ] },
  }));
  const goodFile = path.join(work, 'good.tsv');
  const badFile = path.join(work, 'bad.jsonl');
  const r = spawnSync(bin, ['enrich', '--input-format', 'rawlog', '--input', rawDir, '--output', goodFile,
    '--bad', badFile, '--resolver', resolver, '--quiet', '--threads', '1'], { encoding: 'utf8', timeout: 30000 });
  assert.equal(r.status, 0, `furrow enrich failed: ${r.stderr}`);
  const lines = (f) => fs.readFileSync(f, 'utf8').split('\n').filter((l) => l);
  return { good: lines(goodFile).map(transform), bad: lines(badFile) };
}

function checkApp(good, appId, pageUrl, pageTitle, action, value, targetUrl, tracker) {
  const evs = good.filter((e) => e.app_id === appId);
  const names = evs.map((e) => e.event_name).sort();
  assert.deepEqual(names, ['event', 'link_click', 'page_view'], `${appId}: event names`);
  for (const e of evs) {
    assert.match(e.v_tracker, tracker, `${appId}: v_tracker`);
    assert.match(e.v_collector, /^furrow-.*-rawlog$/);
    assert.match(e.network_userid, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  }
  const pv = evs.find((e) => e.event_name === 'page_view');
  assert.equal(pv.event, 'page_view');
  assert.equal(pv.page_url, pageUrl, `${appId}: page url`);
  assert.equal(pv.page_title, pageTitle, `${appId}: page title`);
  const se = evs.find((e) => e.event_name === 'event');
  assert.equal(se.event, 'struct');
  assert.deepEqual([se.se_category, se.se_action, Number(se.se_value)], ['shop', action, value], `${appId}: struct`);
  const ue = evs.find((e) => e.event_name === 'link_click');
  assert.equal(ue.event, 'unstruct');
  assert.deepEqual([ue.event_vendor, ue.event_format, ue.event_version],
    ['com.snowplowanalytics.snowplow', 'jsonschema', '1-0-1'], `${appId}: unstruct schema`);
  assert.deepEqual(ue.unstruct_event_com_snowplowanalytics_snowplow_link_click_1, { targetUrl });
}

async function main() {
  const collector = await startCollector();
  const collectorUrl = `http://127.0.0.1:${collector.port}`;
  const pageUrl = await startPage(collectorUrl);
  await nodeSends(collectorUrl);
  await browserSends(pageUrl, collector.port);
  await collector.stop();

  const { good, bad } = enrich();
  assert.deepEqual(bad, [], 'no bad rows');
  assert.equal(good.length, 9, `exactly nine good events, got ${good.map((e) => `${e.app_id}/${e.event_name}`)}`);
  assert.equal(new Set(good.map((e) => e.event_id)).size, 9, 'unique event ids');
  for (const m of ['post', 'get']) {
    checkApp(good, `official-node-${m}`, `https://node.example/${m}?q=1`, `Node ${m} page`, `checkout-${m}`, 99,
      `https://node.example/${m}/out`, /^node-4\./);
  }
  checkApp(good, 'official-browser', pageUrl, 'Official browser tracker', 'add-to-basket', 2.5,
    'https://browser.example/out', /^js-4\./);
  const bpv = good.find((e) => e.app_id === 'official-browser' && e.event_name === 'page_view');
  assert.match(bpv.useragent, /Chrome/);
  assert.ok(bpv.domain_userid, 'browser events carry the domain user id');
  console.log(`collector_official_trackers: ${good.length} good events (node POST, node GET, browser), 0 bad`);
}

const timer = setTimeout(() => {
  console.error('collector_official_trackers: timed out after 55 s');
  process.exit(1);
}, 55000);
main().then(() => {
  clearTimeout(timer);
  cleanup();
  process.exit(0);
}, (e) => {
  console.error(e);
  cleanup();
  process.exit(1);
});
