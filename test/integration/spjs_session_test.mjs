// Issue #8 acceptance 2 (sessions) for sp.js in headless Chromium: a session rolls over after the
// session timeout (set to 2 s here with sessionCookieTimeout) and not before; the _sp_id cookie
// keeps Snowplow's ten-field layout through the rollover (visit count, previous session id,
// first event id, event index) and survives a reload; the default timeout is 30 minutes. The
// events arrive as good events carrying the same identifiers. sp.js is loaded with its integrity
// hash.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { enrich, launchBrowser, run, spJsPath, startCollector, startPages, tempDir, until } from
  '../../trackers/js/test/harness.mjs';

// Loaded with its Subresource Integrity value (computed as furrow::assets::sp_js_integrity is):
// Chromium runs it only if the value is right.
const sri = 'sha384-' + crypto.createHash('sha384').update(fs.readFileSync(spJsPath)).digest('base64');
const page = (collector, cfg) => `<!doctype html><html><head><title>Session</title>
<script src="/sp.js" integrity="${sri}"></script>
<script>furrow.newTracker('sp', '${collector}', ${JSON.stringify(cfg)});</script></head><body></body></html>`;

run('spjs_session', 55000, async () => {
  const work = tempDir('furrow-spjs-session-');
  const collector = await startCollector(path.join(work, 'raw'));
  const site = await startPages({
    '/short': page(collector.url, { appId: 'spjs-session', sessionCookieTimeout: 2 }),
    '/default': page(collector.url, { appId: 'spjs-default', cookieName: '_dflt_' }),
  });
  const browser = await launchBrowser();
  const context = await browser.newContext();
  const tab = await context.newPage();
  const idCookie = async () => {
    const c = (await context.cookies()).find((k) => k.name.startsWith('_sp_id.'));
    return c && c.value.split('.');
  };
  const sesCookie = async () => (await context.cookies()).find((k) => k.name.startsWith('_sp_ses.'));
  const track = (label) => tab.evaluate((l) => furrow.trackStructEvent({ category: 'session', action: l }), label);

  await tab.goto(site.url + '/short');
  const t0 = Math.floor(Date.now() / 1000);
  const pvEid = await tab.evaluate(() => furrow.trackPageView());
  const first = await idCookie();
  assert.equal(first.length, 10, `layout: ${first}`);
  const [duid, created, visits, nowTs, lastVisit, sid, prevSid, firstEid, firstTs, index] = first;
  assert.match(duid, /^[0-9a-f-]{36}$/);
  assert.ok(Math.abs(created - t0) <= 2 && Math.abs(nowTs - t0) <= 2, 'created and now in seconds');
  assert.deepEqual([visits, lastVisit, prevSid, firstEid, index], ['1', '', '', pvEid, '1']);
  assert.match(sid, /^[0-9a-f-]{36}$/);
  assert.ok(Math.abs(firstTs - Date.now()) < 5000, 'first event time in ms');
  assert.equal((await sesCookie()).value, '*');

  // Within the timeout: same session, the event index grows; a reload keeps everything.
  await tab.waitForTimeout(1000);
  await track('same-session');
  await tab.reload();
  await track('after-reload');
  let c = await idCookie();
  assert.deepEqual([c[0], c[2], c[5], c[7], c[9]], [duid, '1', sid, pvEid, '3']);

  // Idle past the timeout: _sp_ses expires and the next event starts visit 2.
  await until(async () => !(await sesCookie()), 5000, '_sp_ses to expire');
  await tab.waitForTimeout(1100); // so that "now" moves on by a second
  const eid2 = await track('new-session');
  c = await idCookie();
  assert.equal(c[0], duid, 'same domain user id');
  assert.equal(c[1], created, 'creation time kept');
  assert.equal(c[2], '2', 'visit count');
  assert.notEqual(c[5], sid, 'new session id');
  assert.equal(c[6], sid, 'previous session id');
  assert.ok(Number(c[4]) >= Number(nowTs) && Number(c[4]) < Number(c[3]), `last visit ${c[4]} is the old session's last event`);
  assert.deepEqual([c[7], c[9]], [eid2, '1'], 'first event and index restart');
  const sid2 = c[5];

  // Default timeout: 30 minutes.
  await tab.goto(site.url + '/default');
  await tab.evaluate(() => furrow.trackPageView({ title: 'Own title' }));
  const dflt = (await context.cookies()).find((k) => k.name.startsWith('_dflt_ses.'));
  assert.ok(dflt, 'session cookie with the custom cookie name');
  const left = dflt.expires - Date.now() / 1000;
  assert.ok(left > 1790 && left <= 1801, `default session lifetime ${left} s`);
  const idDflt = (await context.cookies()).find((k) => k.name.startsWith('_dflt_id.'));
  // Asked for two years (Snowplow's default); Chromium caps cookie lifetimes at 400 days.
  assert.ok(idDflt.expires - Date.now() / 1000 > 390 * 86400, 'the id cookie lives long');

  await until(() => tab.evaluate(() => (localStorage.getItem('furrow_outbox_sp') || '[]') === '[]'), 10000, 'delivery');
  await collector.stop();
  const { good, bad } = enrich(work, [collector.dir]);
  assert.deepEqual(bad, []);
  const ev = good.filter((e) => e.app_id === 'spjs-session')
    .sort((a, b) => a.dvce_created_tstamp.localeCompare(b.dvce_created_tstamp));
  assert.deepEqual(ev.map((e) => [e.event, e.se_action ?? null, e.domain_sessionidx, e.domain_sessionid]), [
    ['page_view', null, 1, sid],
    ['struct', 'same-session', 1, sid],
    ['struct', 'after-reload', 1, sid],
    ['struct', 'new-session', 2, sid2],
  ]);
  assert.ok(ev.every((e) => e.domain_userid === duid));
  assert.deepEqual(good.filter((e) => e.app_id === 'spjs-default').map((e) => e.page_title), ['Own title']);
  assert.equal(ev[0].page_title, 'Session', 'the document title by default');
});
