// Issue #8 acceptance 1 for sp.js: every event type, sent by headless Chromium through the POST
// (tp2) and GET (/i, base64) transports, arrives as a good event with the expected fields and no
// bad rows, twice: at `furrow run`, read back through its Micro API (/micro/wait, /micro/good,
// /micro/bad), and at `furrow collector`, then through `furrow enrich` (Iglu validation on both).
// Also checks page-ping scroll offsets, the web_page context, global/per-event contexts,
// setUserId, link-click and form tracking, and the _sp_id cookie layout. The page loads sp.js
// from the collector (the copy embedded in the binary) with the asynchronous snippet.
import assert from 'node:assert/strict';
import path from 'node:path';
import { enrich, entities, launchBrowser, run, startCollector, startPages, startRun, tempDir, until } from
  '../../trackers/js/test/harness.mjs';

const page = (collector) => `<!doctype html><html><head><meta charset="utf-8"><title>Events – Grüße</title>
<script>
window.furrow=window.furrow||function(){(window.furrow.q=window.furrow.q||[]).push(arguments)};
furrow('newTracker','sp','${collector}',{appId:'spjs-events',retryMinDelay:200,retryMaxDelay:1000});
furrow('newTracker','get','${collector}',{appId:'spjs-events',eventMethod:'get'});
furrow('enableActivityTracking',{minimumVisitLength:1,heartbeatDelay:1});
furrow('enableLinkClickTracking',{trackContent:true});
furrow('enableFormTracking');
furrow('addGlobalContexts',[{schema:'iglu:com.example/experiment/jsonschema/1-0-0',data:{name:'exp1',variant:'b'}}]);
furrow('trackPageView',{context:[{schema:'iglu:com.example/page_context/jsonschema/1-0-0',data:{section:'docs',tags:['x']}}]});
</script>
<script async src="${collector}/sp.js"></script></head>
<body style="margin:0;width:4000px;height:4000px">
<a id="docs" class="nav main" href="#docs">Read the <b>docs</b></a>
<form id="signup" class="f1 f2" onsubmit="return false">
<input id="email" name="email" type="email" class="in"><input name="pw" type="password" value="secret">
<select id="plan" name="plan"><option>basic</option><option>pro</option></select>
<input type="hidden" name="src" value="ad"><button id="go" type="submit">Go</button></form>
</body></html>`;

const outboxEmpty = () =>
  ['sp', 'get'].every((n) => (localStorage.getItem('furrow_outbox_' + n) || '[]') === '[]');

// Drives the page against the collector at `collectorUrl`; returns the cookies and the domain
// user ids the tracker reports once its outboxes are empty (everything acknowledged).
async function drive(browser, collectorUrl) {
  const site = await startPages({ '/': page(collectorUrl) });
  const context = await browser.newContext();
  const tab = await context.newPage();
  await tab.goto(site.url + '/');
  await tab.waitForFunction(() => window.furrow && window.furrow.version);

  // Two pings: offsets are min/max since the previous ping (reset to the position after each).
  await tab.evaluate(() => window.scrollTo(120, 800));
  await tab.waitForTimeout(1600);
  await tab.evaluate(() => window.scrollTo(40, 1500));
  await tab.waitForTimeout(1200);
  await tab.evaluate(() => furrow('enableActivityTracking', {})); // idempotent: no second timer

  await tab.evaluate(() => {
    furrow('setUserId', 'user-1');
    furrow('trackStructEvent', { category: 'cat', action: 'act', label: 'lbl', property: 'prop', value: 42.5 });
    furrow('trackSelfDescribingEvent', {
      event: { schema: 'iglu:com.example/button_press/jsonschema/1-0-0', data: { button_id: 'b1', clicks: 3, label: 'Grüße – 日本語 ✓' } },
      context: [{ schema: 'iglu:com.example/page_context/jsonschema/1-0-0', data: { section: 'per-event' } }],
    });
  });
  await tab.click('#docs');
  await tab.fill('#email', 'a+b@example.com');
  await tab.selectOption('#plan', 'pro');
  await tab.click('#go');
  await until(() => tab.evaluate(outboxEmpty), 15000, 'the outbox to empty');
  const cookies = await context.cookies();
  const duids = await tab.evaluate(() => [furrow('getDomainUserId:sp'), furrow.getDomainUserId()]);
  await context.close();
  return { cookies, duids };
}

function verify(good, bad, cookies, duids) {
  assert.deepEqual(bad, [], 'no bad rows');
  for (const name of ['sp', 'get']) {
    const evs = good.filter((e) => e.name_tracker === name);
    // Pings: two from the scrolls, maybe more from the clicks and typing that follow.
    const kinds = evs.map((e) => e.event_name).filter((n) => n !== 'page_ping').sort();
    assert.deepEqual(kinds, ['button_press', 'change_form', 'change_form', 'event', 'link_click', 'page_view',
      'submit_form'], `${name}: event kinds ${kinds}`);
    check(name, evs, cookies);
    assert.deepEqual(duids, [evs[0].domain_userid, evs[0].domain_userid], 'getDomainUserId');
  }
  assert.equal(new Set(good.map((e) => e.event_id)).size, good.length, 'event ids are unique');
}

run('spjs_events', 58000, async () => {
  const work = tempDir('furrow-spjs-events-');
  const browser = await launchBrowser();

  // furrow run: sp.js served by it, events read back through the Micro API.
  const furrow = await startRun(work);
  const viaRun = await drive(browser, furrow.url);
  const micro = await furrow.events(18); // 2 trackers × (7 events + at least 2 pings)
  await furrow.stop();
  verify(micro.good, micro.bad, viaRun.cookies, viaRun.duids);

  // furrow collector, then furrow enrich over its raw log.
  const collector = await startCollector(path.join(work, 'raw'));
  const viaCollector = await drive(browser, collector.url);
  await collector.stop();
  const { good, bad } = enrich(work, [collector.dir]);
  verify(good, bad, viaCollector.cookies, viaCollector.duids);
});

function check(name, evs, cookies) {
  const by = (n) => evs.filter((e) => e.event_name === n);
  const pv = by('page_view')[0];
  const idCookie = cookies.find((c) => c.name.startsWith('_sp_id.'));
  assert.ok(idCookie, 'an _sp_id cookie');
  assert.ok(cookies.find((c) => c.name.startsWith('_sp_ses.') && c.value === '*'), 'an _sp_ses cookie');
  const f = idCookie.value.split('.');
  assert.equal(f.length, 10, `_sp_id layout: ${idCookie.value}`);
  for (const e of evs) {
    assert.equal(e.app_id, 'spjs-events');
    assert.equal(e.platform, 'web');
    assert.equal(e.v_tracker, 'furrow-js-0.1.0');
    assert.equal(e.domain_userid, f[0], 'duid = cookie field 0');
    assert.equal(e.domain_sessionid, f[5], 'sid = cookie field 5');
    assert.equal(e.domain_sessionidx, 1);
    assert.match(e.page_url, /^http:\/\/127\.0\.0\.1:\d+\/(#docs)?$/);
    assert.ok(e.dvce_created_tstamp && e.dvce_sent_tstamp, 'dtm and stm');
    assert.ok(e.br_lang && e.os_timezone && e.dvce_screenwidth > 0 && e.br_viewwidth > 0 && e.doc_width >= 4000);
    assert.equal(e.doc_charset, 'UTF-8');
    assert.equal(e.br_cookies, true);
    // The same page view id on every event of the page, and the global context everywhere.
    assert.deepEqual(entities(e, 'web_page_1'), entities(pv, 'web_page_1'));
    assert.deepEqual(e.contexts_com_example_experiment_1, [{ name: 'exp1', variant: 'b' }], e.event_name);
  }
  assert.match(entities(pv, 'web_page_1')[0].id, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  assert.equal(pv.page_title, 'Events – Grüße');
  assert.deepEqual(pv.contexts_com_example_page_context_1, [{ section: 'docs', tags: ['x'] }]);
  assert.equal(pv.user_id, undefined);

  const pings = by('page_ping').sort((a, b) => a.dvce_created_tstamp.localeCompare(b.dvce_created_tstamp));
  assert.ok(pings.length >= 2, `${name}: ${pings.length} pings`);
  const offsets = pings.slice(0, 2).map((p) => [p.pp_xoffset_min, p.pp_xoffset_max, p.pp_yoffset_min, p.pp_yoffset_max]);
  assert.deepEqual(offsets, [[0, 120, 0, 800], [40, 120, 800, 1500]], `${name}: ping offsets`);
  for (const p of pings) {
    assert.equal(p.page_title, 'Events – Grüße');
    assert.deepEqual(p.contexts_com_example_page_context_1, [{ section: 'docs', tags: ['x'] }], 'pings repeat the pv context');
  }

  const se = by('event')[0];
  assert.deepEqual([se.event, se.se_category, se.se_action, se.se_label, se.se_property, Number(se.se_value), se.user_id],
    ['struct', 'cat', 'act', 'lbl', 'prop', 42.5, 'user-1']);
  assert.equal(se.page_title, undefined, 'page title only on pv and pp');

  const ue = by('button_press')[0];
  assert.deepEqual(ue.unstruct_event_com_example_button_press_1, { button_id: 'b1', clicks: 3, label: 'Grüße – 日本語 ✓' });
  assert.deepEqual(ue.contexts_com_example_page_context_1, [{ section: 'per-event' }]);
  assert.equal(ue.user_id, 'user-1');

  const link = by('link_click')[0].unstruct_event_com_snowplowanalytics_snowplow_link_click_1;
  assert.match(link.targetUrl, /^http:\/\/127\.0\.0\.1:\d+\/#docs$/);
  assert.deepEqual([link.elementId, link.elementClasses, link.elementContent], ['docs', ['nav', 'main'], 'Read the <b>docs</b>']);

  const changes = by('change_form').map((e) => e.unstruct_event_com_snowplowanalytics_snowplow_change_form_1);
  changes.sort((a, b) => a.elementId.localeCompare(b.elementId));
  assert.deepEqual(changes, [
    { formId: 'signup', elementId: 'email', nodeName: 'INPUT', type: 'email', elementClasses: ['in'], value: 'a+b@example.com' },
    { formId: 'signup', elementId: 'plan', nodeName: 'SELECT', elementClasses: [], value: 'pro' },
  ]);
  const submit = by('submit_form')[0].unstruct_event_com_snowplowanalytics_snowplow_submit_form_1;
  assert.deepEqual(submit, {
    formId: 'signup', formClasses: ['f1', 'f2'], elements: [
      { name: 'email', value: 'a+b@example.com', nodeName: 'INPUT', type: 'email' },
      { name: 'plan', value: 'pro', nodeName: 'SELECT' },
      { name: 'src', value: 'ad', nodeName: 'INPUT', type: 'hidden' },
    ],
  }, 'the password field is left out');
}
