// Issue #8 acceptance 2 (delivery) for sp.js in headless Chromium: while the collector is down,
// events wait in the localStorage outbox and are retried with back-off, also across a page
// reload; once the collector is back every event is delivered exactly once (the event id is fixed
// at tracking time, only stm is stamped per attempt), and nothing is sent again afterwards.
import assert from 'node:assert/strict';
import path from 'node:path';
import { enrich, launchBrowser, run, startCollector, startPages, tempDir, until } from
  '../../trackers/js/test/harness.mjs';

const page = (collector) => `<!doctype html><html><head><title>Offline</title>
<script src="/sp.js"></script>
<script>furrow.newTracker('sp', '${collector}', {appId: 'spjs-offline', retryMinDelay: 200, retryMaxDelay: 800});
furrow.trackPageView();</script></head><body></body></html>`;

const outbox = () => JSON.parse(localStorage.getItem('furrow_outbox_sp') || '[]');

run('spjs_offline', 55000, async () => {
  const work = tempDir('furrow-spjs-offline-');
  let collector = await startCollector(path.join(work, 'raw1'));
  const port = collector.port;
  const site = await startPages({ '/': page(collector.url) });
  const browser = await launchBrowser();
  const tab = await browser.newPage();
  const track = (label) => tab.evaluate((l) => furrow.trackStructEvent({ category: 'offline', action: l }), label);
  const drained = () => until(async () => (await tab.evaluate(outbox)).length === 0, 15000, 'the outbox to drain');

  await tab.goto(site.url + '/');
  await drained();

  await collector.stop();
  for (const l of ['off-1', 'off-2', 'off-3']) await track(l);
  const offSince = Date.now();
  // Each waiting event has been tried and failed at least twice.
  await until(async () => {
    const q = await tab.evaluate(outbox);
    return q.length === 3 && q.every((it) => it.a >= 2);
  }, 15000, 'failed retries');
  await tab.reload(); // the outbox outlives the page; the new page view joins it
  await track('off-4');
  await until(async () => (await tab.evaluate(outbox)).length === 5, 5000, 'five waiting events');
  await tab.waitForTimeout(500);

  const offlineFor = Date.now() - offSince;
  collector = await startCollector(path.join(work, 'raw2'), port);
  await drained();
  await track('online-1');
  await drained();
  await tab.reload();
  await drained();
  await tab.waitForTimeout(1500); // time for any duplicate to show up
  await collector.stop();

  const { good, bad } = enrich(work, [path.join(work, 'raw1'), path.join(work, 'raw2')]);
  assert.deepEqual(bad, []);
  const names = good.map((e) => e.se_action ?? e.event).sort();
  assert.deepEqual(names, ['off-1', 'off-2', 'off-3', 'off-4', 'online-1', 'page_view', 'page_view', 'page_view']);
  assert.equal(new Set(good.map((e) => e.event_id)).size, good.length, 'every event exactly once');
  // stm is stamped when the send succeeds, not when the event was tracked.
  for (const e of good.filter((x) => /^off-[123]$/.test(x.se_action ?? ''))) {
    const waited = Date.parse(e.dvce_sent_tstamp) - Date.parse(e.dvce_created_tstamp);
    assert.ok(waited >= offlineFor - 100, `${e.se_action} waited ${waited} ms, offline ${offlineFor} ms`);
  }
});
