// sp.js buffering in headless Chromium: with bufferSize, events wait in the outbox until the
// buffer is full, flushBuffer() is called, or the page is hidden; on pagehide the waiting events
// leave in one navigator.sendBeacon POST and the next page does not send them again. Every event
// arrives exactly once as a good event.
import assert from 'node:assert/strict';
import path from 'node:path';
import { enrich, launchBrowser, run, startCollector, startPages, tempDir, until } from
  '../../trackers/js/test/harness.mjs';

const page = (collector) => `<!doctype html><html><head><title>Beacon</title>
<script src="/sp.js"></script>
<script>furrow.newTracker('sp', '${collector}', {appId: 'spjs-beacon', bufferSize: 4});
furrow.trackPageView();</script></head><body><a id="away" href="/next">away</a></body></html>`;

const stored = () => JSON.parse(localStorage.getItem('furrow_outbox_sp') || '[]').length;

run('spjs_beacon', 55000, async () => {
  const work = tempDir('furrow-spjs-beacon-');
  const collector = await startCollector(path.join(work, 'raw'));
  const site = await startPages({ '/': page(collector.url), '/next': page(collector.url) });
  const browser = await launchBrowser();
  const context = await browser.newContext();
  const tab = await context.newPage();
  const sent = [];
  context.on('request', (r) => r.url().startsWith(collector.url) && r.method() === 'POST' &&
    sent.push({ events: JSON.parse(r.postData()).data.map((e) => e.se_ac ?? e.e) }));
  const track = (l) => tab.evaluate((a) => furrow.trackStructEvent({ category: 'beacon', action: a }), l);

  await tab.goto(site.url + '/');
  await track('b-1');
  await track('b-2');
  await tab.waitForTimeout(300);
  assert.equal(await tab.evaluate(stored), 3, 'below the buffer size nothing is sent');
  assert.deepEqual(sent, []);
  await track('b-3'); // the fourth event fills the buffer
  await until(async () => (await tab.evaluate(stored)) === 0, 10000, 'the full buffer to be sent');
  assert.deepEqual(sent.map((s) => s.events), [['pv', 'b-1', 'b-2', 'b-3']]);

  await track('f-1');
  await tab.evaluate(() => furrow.flushBuffer());
  await until(async () => (await tab.evaluate(stored)) === 0, 10000, 'flushBuffer');
  assert.deepEqual(sent[1].events, ['f-1']);

  await track('h-1');
  await track('h-2');
  await tab.click('#away'); // pagehide: the two waiting events leave in a beacon
  await tab.waitForURL(site.url + '/next');
  assert.equal(await tab.evaluate(stored), 1, 'the new page holds only its own page view');
  await tab.evaluate(() => furrow.flushBuffer());
  await until(async () => (await tab.evaluate(stored)) === 0, 10000, 'the last flush');
  await tab.waitForTimeout(500);
  await collector.stop();
  // Playwright does not report beacons sent while a page goes; no fetch carried h-1 or h-2.
  assert.deepEqual(sent.map((s) => s.events), [['pv', 'b-1', 'b-2', 'b-3'], ['f-1'], ['pv']]);

  const { good, bad } = enrich(work, [collector.dir]);
  assert.deepEqual(bad, []);
  assert.deepEqual(good.map((e) => e.se_action ?? e.event).sort(),
    ['b-1', 'b-2', 'b-3', 'f-1', 'h-1', 'h-2', 'page_view', 'page_view']);
  assert.equal(new Set(good.map((e) => e.event_id)).size, good.length);
  const hidden = good.filter((e) => /^h-/.test(e.se_action ?? ''));
  assert.equal(hidden[0].dvce_sent_tstamp, hidden[1].dvce_sent_tstamp, 'h-1 and h-2 left in one request');
});
