// Issue #8 acceptance 2 (privacy) for sp.js in headless Chromium: in anonymous mode the tracker
// writes no cookie, sends no identifier (no duid/sid/vid, no user id even after setUserId) and
// marks every request with SP-Anonymous, so the collector sets no cookie either and records the
// all-zero network user id; with respectDoNotTrack and Do Not Track on, nothing is sent at all.
import assert from 'node:assert/strict';
import path from 'node:path';
import { enrich, launchBrowser, run, startCollector, startPages, tempDir, until } from
  '../../trackers/js/test/harness.mjs';

const page = (collector, name, cfg) => `<!doctype html><html><head><title>Anonymous</title>
<script src="/sp.js"></script>
<script>furrow.newTracker('${name}', '${collector}', ${JSON.stringify(cfg)});
furrow.setUserId('someone@example.com');
furrow.trackPageView();
furrow.trackStructEvent({category: 'anon', action: 'click'});
furrow.trackSelfDescribingEvent({event: {schema: 'iglu:com.example/button_press/jsonschema/1-0-0', data: {button_id: 'b'}}});
</script></head><body></body></html>`;

run('spjs_anonymous', 55000, async () => {
  const work = tempDir('furrow-spjs-anon-');
  const collector = await startCollector(path.join(work, 'raw'));
  const site = await startPages({
    '/anon': page(collector.url, 'anon', { appId: 'spjs-anon', anonymous: true }),
    '/anon-get': page(collector.url, 'anonget', { appId: 'spjs-anon-get', anonymous: true, eventMethod: 'get' }),
    '/dnt': page(collector.url, 'dnt', { appId: 'spjs-dnt', respectDoNotTrack: true }),
    '/dnt-ignored': page(collector.url, 'dnt2', { appId: 'spjs-dnt-ignored' }),
  });
  const browser = await launchBrowser();

  const anon = await browser.newContext();
  const tab = await anon.newPage();
  const requests = [];
  tab.on('request', (r) => r.url().startsWith(collector.url) && requests.push(r));
  for (const p of ['/anon', '/anon-get']) {
    await tab.goto(site.url + p);
    await until(() => tab.evaluate(() => Object.keys(localStorage).every((k) => localStorage[k] === '[]')), 10000,
      'delivery');
  }
  assert.deepEqual(await anon.cookies(), [], 'no cookie at all, neither first-party nor the collector\'s');
  assert.equal(await tab.evaluate(() => document.cookie), '');
  const sent = requests.filter((r) => r.method() !== 'OPTIONS');
  assert.equal(sent.length, 4, 'one POST (three events in one batch) and three GETs');
  for (const r of sent) assert.equal((await r.allHeaders())['sp-anonymous'], '*');

  // Do Not Track: honoured only when asked to.
  const dntContext = await browser.newContext();
  await dntContext.addInitScript(() => Object.defineProperty(Navigator.prototype, 'doNotTrack', { get: () => '1' }));
  const dntTab = await dntContext.newPage();
  const dntRequests = [];
  dntTab.on('request', (r) => r.url().startsWith(collector.url) && dntRequests.push(r.url()));
  await dntTab.goto(site.url + '/dnt');
  await dntTab.waitForTimeout(500);
  assert.deepEqual(dntRequests, [], 'nothing sent under Do Not Track');
  assert.deepEqual(await dntContext.cookies(), [], 'no cookie under Do Not Track');
  await dntTab.goto(site.url + '/dnt-ignored');
  await until(() => dntRequests.length > 0 && dntTab.evaluate(() => localStorage.furrow_outbox_dnt2 === '[]'), 10000,
    'delivery without respectDoNotTrack');

  await collector.stop();
  const { good, bad } = enrich(work, [collector.dir]);
  assert.deepEqual(bad, []);
  for (const app of ['spjs-anon', 'spjs-anon-get']) {
    const evs = good.filter((e) => e.app_id === app);
    assert.deepEqual(evs.map((e) => e.event).sort(), ['page_view', 'struct', 'unstruct'], app);
    for (const e of evs) {
      for (const f of ['domain_userid', 'domain_sessionid', 'domain_sessionidx', 'user_id']) {
        assert.equal(e[f], undefined, `${app} ${e.event}: ${f} must not be sent`);
      }
      assert.equal(e.network_userid, '00000000-0000-0000-0000-000000000000', 'the collector anonymised');
    }
  }
  assert.equal(good.filter((e) => e.app_id === 'spjs-dnt').length, 0);
  const plain = good.filter((e) => e.app_id === 'spjs-dnt-ignored');
  assert.equal(plain.length, 3);
  assert.ok(plain.every((e) => e.domain_userid && e.user_id === 'someone@example.com'));
});
