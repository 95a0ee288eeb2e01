// Issue #8 acceptance 2 (delivery) for sp.js in headless Chromium: while the collector is down,
// events wait in the localStorage outbox and are retried with back-off, also across a page
// reload and when the tab that tracked them is left; once the collector is back every event is
// delivered exactly once (the event id is fixed at tracking time, only stm is stamped per
// attempt), nothing is sent again afterwards, and a link click sent just before navigating
// away is not sent a second time by the next page.
import assert from 'node:assert/strict';
import path from 'node:path';
import { enrich, launchBrowser, run, startCollector, startPages, tempDir, until } from
  '../../trackers/js/test/harness.mjs';

const page = (collector) => `<!doctype html><html><head><title>Offline</title>
<script src="/sp.js"></script>
<script>furrow.newTracker('sp', '${collector}', {appId: 'spjs-offline', retryMinDelay: 200, retryMaxDelay: 800});
furrow.enableLinkClickTracking();
furrow.trackPageView();</script></head><body><a id="next" href="/next">next</a></body></html>`;

const stored = () => JSON.parse(localStorage.getItem('furrow_outbox_sp') || '[]');

run('spjs_offline', 58000, async () => {
  const work = tempDir('furrow-spjs-offline-');
  let collector = await startCollector(path.join(work, 'raw1'));
  const port = collector.port;
  const site = await startPages({ '/': page(collector.url), '/next': page(collector.url) });
  const browser = await launchBrowser();
  const context = await browser.newContext();
  const tab = await context.newPage();
  const track = (t, label) => t.evaluate((l) => furrow.trackStructEvent({ category: 'offline', action: l }), label);
  const drained = () => until(async () => (await tab.evaluate(stored)).length === 0, 15000,
    async () => 'the outbox to drain: ' + JSON.stringify(await tab.evaluate(stored)));

  await tab.goto(site.url + '/');
  await drained();
  await tab.click('#next'); // the link_click is in flight while the page goes
  await tab.waitForURL(site.url + '/next');
  await drained();

  // Collector down; a second tab of the site tracks too.
  await collector.stop();
  const other = await context.newPage();
  await other.goto(site.url + '/');
  await track(other, 'b-1');
  for (const l of ['off-1', 'off-2', 'off-3']) await track(tab, l);
  const offSince = Date.now();
  await until(async () => {
    const q = await tab.evaluate(stored);
    const mine = q.filter((it) => /^off-/.test(it.p.se_ac ?? ''));
    return q.length === 5 && mine.length === 3 && mine.every((it) => it.a >= 2);
  }, 15000, 'failed retries in both tabs');
  await tab.reload(); // the outbox outlives the page; the new page view joins it
  await track(tab, 'off-4');
  await other.goto('about:blank'); // the other tab leaves with its two events unsent
  await until(async () => (await tab.evaluate(stored)).length === 7, 5000, 'seven waiting events');
  await tab.waitForTimeout(500);

  const offlineFor = Date.now() - offSince;
  collector = await startCollector(path.join(work, 'raw2'), port);
  await drained();
  await track(tab, 'online-1');
  await drained();
  await tab.reload();
  await drained();
  await tab.waitForTimeout(1500); // time for any duplicate to show up
  await collector.stop();

  const { good, bad } = enrich(work, [path.join(work, 'raw1'), path.join(work, 'raw2')]);
  assert.deepEqual(bad, []);
  const names = good.map((e) => e.se_action ?? e.event_name + ' ' + new URL(e.page_url).pathname).sort();
  assert.deepEqual(names, ['b-1', 'link_click /', 'off-1', 'off-2', 'off-3', 'off-4', 'online-1', 'page_view /',
    'page_view /', 'page_view /next', 'page_view /next', 'page_view /next']);
  assert.equal(new Set(good.map((e) => e.event_id)).size, good.length, 'every event exactly once');
  // stm is stamped when the send succeeds, not when the event was tracked.
  for (const e of good.filter((x) => /^off-[123]$/.test(x.se_action ?? ''))) {
    const waited = Date.parse(e.dvce_sent_tstamp) - Date.parse(e.dvce_created_tstamp);
    assert.ok(waited >= offlineFor - 100, `${e.se_action} waited ${waited} ms, offline ${offlineFor} ms`);
  }
});
