// Issue 7 acceptance 2: hostile strings sent as page titles, URLs, referrers, search terms,
// campaign fields, structured-event fields, app ids and context values reach the dashboard as
// data and render as text in Chromium: no script runs (a window.__xss flag, a dialog listener and a
// CSP-violation listener stay silent), no element is injected, and every dashboard response
// carries the strict Content-Security-Policy.
import assert from 'node:assert/strict';
import {
  cleanup, deadline, skipUnlessDashboard, getJson, kCsp, launchChromium, startRun, until,
} from './dashboard_support.mjs';

deadline(55_000);

const js = 'window.__xss=1';
const hostile = [
  `<script>${js}</script>`, `</script ><script>${js}</script >`, `</script><script>${js}</script>`,
  `<img src=x onerror="${js}">`, `<img src=x onerror=${js}>`, `"><img src=x onerror=${js}>`,
  `'><img src=x onerror=${js}>`, `<svg onload=${js}>`, `<svg><script>${js}</script></svg>`,
  `<svg/onload=${js}>`, `<body onload=${js}>`, `<iframe src="javascript:${js}"></iframe>`,
  `<iframe srcdoc="<script>parent.__xss=1</script>"></iframe>`, `javascript:${js}`,
  `JaVaScRiPt:${js}`, `<a href="javascript:${js}">x</a>`, `<math><mtext><script>${js}</script>`,
  `<details open ontoggle=${js}>`, `<video><source onerror=${js}>`, `<audio src=x onerror=${js}>`,
  `<input autofocus onfocus=${js}>`, `<marquee onstart=${js}>`, `<object data="javascript:${js}">`,
  `<embed src="javascript:${js}">`, `<style>@import'javascript:${js}'</style>`,
  `<link rel=stylesheet href=javascript:${js}>`, `<meta http-equiv=refresh content="0;url=javascript:${js}">`,
  `<base href="javascript:${js}//">`, `<form action="javascript:${js}"><button>x</button></form>`,
  `<isindex action=javascript:${js} type=image>`, `<table background="javascript:${js}">`,
  `<div style="background:url(javascript:${js})">`, `"onmouseover="${js}`, `' onmouseover='${js}`,
  `\` onmouseover=\`${js}`, `" autofocus onfocus="${js}`, `<scr<script>ipt>${js}</scr</script>ipt>`,
  `%3Cscript%3E${js}%3C/script%3E`, `&lt;script&gt;${js}&lt;/script&gt;`,
  `<script src=data:text/javascript,${js}></script>`, `<img src="x` + '`' + `<script>${js}</script>"\`>`,
  `{{constructor.constructor('${js}')()}}`, `\${${js}}`, `<!--<img src="--><img src=x onerror=${js}//">`,
  `<noscript><p title="</noscript><img src=x onerror=${js}>">`, `<template><img src=x onerror=${js}></template>`,
  `<xmp><img src=x onerror=${js}></xmp>`, `<textarea></textarea><img src=x onerror=${js}>`,
  `<title></title><img src=x onerror=${js}>`, `\u2028<img src=x onerror=${js}>\u2029`,
  `<img src=x onerror=alert(1)>`, `<script>alert(document.cookie)</script>`,
  `<svg><animate onbegin=${js} attributeName=x dur=1s>`, `<img src=x onerror=&#x77;indow.__xss=1>`,
];
assert.ok(hostile.length >= 50, `${hostile.length} hostile strings`);

const { base } = await startRun('furrow-dash-xss-');
await skipUnlessDashboard(base);
const tp2 = `${base}/com.snowplowanalytics.snowplow/tp2`;
const b64 = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
const enc = encodeURIComponent;
// One session per string: a page view from a search engine with utm campaign parameters and a
// hostile title and context value, then a structured event with hostile fields.
const events = [];
hostile.forEach((h, i) => {
  const common = { tv: 'js-3.0.0', p: 'web', aid: i % 5 === 0 ? h : 'xss', duid: `user-${i}`,
                   sid: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`, vid: '1',
                   dtm: String(Date.now()) };
  events.push({ ...common, e: 'pv', eid: crypto.randomUUID(), page: h,
    url: `https://xss.example/p${i}/${enc(h)}?utm_source=${enc(h)}&utm_medium=${enc(h)}&utm_campaign=${enc(h)}`,
    refr: `https://www.google.com/search?q=${enc(h)}`,
    cx: b64({ schema: 'iglu:com.snowplowanalytics.snowplow/contexts/jsonschema/1-0-0', data: [
      { schema: 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0', data: { id: crypto.randomUUID() } },
      { schema: 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1',
        data: { targetUrl: h, elementId: h, elementContent: h, elementClasses: [h] } }] }) });
  events.push({ ...common, e: 'se', eid: crypto.randomUUID(), se_ca: h, se_ac: h, se_la: h, se_pr: h });
});
// Plus self-describing events whose schema does not resolve: bad rows whose messages quote it.
for (const h of hostile.slice(0, 10)) {
  events.push({ e: 'ue', tv: 'js-3.0.0', p: 'web', aid: 'xss', eid: crypto.randomUUID(),
    ue_px: b64({ schema: 'iglu:com.snowplowanalytics.snowplow/unstruct_event/jsonschema/1-0-0',
                 data: { schema: `iglu:com.acme/${h}/jsonschema/1-0-0`, data: { h } } }) });
}
for (let i = 0; i < events.length; i += 20) {
  const r = await fetch(tp2, { method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4',
                           data: events.slice(i, i + 20) }) });
  assert.equal(r.status, 200);
}
const goodCount = 2 * hostile.length;
try {
  await until(async () => (await getJson(`${base}/api/summary`)).json.current?.events === goodCount,
              25_000, `${goodCount} events in the dashboard's rollups`);
  const badRows = await until(async () => {
    const b = await getJson(`${base}/api/bad-rows`);
    return b.json.total >= 10 ? b.json : null;
  }, 10_000, 'the bad rows in the rollups');

  // The API returns the strings as data.
  const camp = await getJson(`${base}/api/campaigns?limit=1000`);
  const campaigns = new Set(camp.json.rows.map((r) => r.campaign));
  const terms = new Set((await getJson(`${base}/api/search-terms?limit=1000`)).json.rows.map((r) => r.term));
  const cats = new Set((await getJson(`${base}/api/events?limit=1000`)).json.structured.map((r) => r.category));
  for (const h of hostile) assert.ok(cats.has(h), `structured category ${JSON.stringify(h)}`);
  // Campaigns and search terms exist only when furrow run enables those enrichments.
  assert.ok(campaigns.size === 0 || hostile.filter((h) => campaigns.has(h)).length >= 40,
            `campaign names kept as sent: ${JSON.stringify([...campaigns].slice(0, 5))}`);
  assert.ok(terms.size === 0 || hostile.filter((h) => terms.has(h)).length >= 40,
            `search terms kept as sent: ${JSON.stringify([...terms].slice(0, 5))}`);

  const browser = await launchChromium();
  const tab = await browser.newPage({ viewport: { width: 1400, height: 1600 } });
  const dialogs = [];
  tab.on('dialog', (d) => { dialogs.push(d.message()); d.dismiss(); });
  const responses = [];
  tab.on('response', (r) => { if (r.url().startsWith(base)) responses.push(r); });
  await tab.addInitScript(() => {
    window.__violations = [];
    document.addEventListener('securitypolicyviolation',
                              (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const check = async (view) => {
    await tab.waitForSelector(`body[data-loaded="${view}"]`, { timeout: 15_000 });
    await tab.mouse.move(300, 400);  // hover handlers, if any had been injected
    await tab.waitForTimeout(300);
    assert.equal(await tab.evaluate(() => window.__xss), undefined, `script ran in ${view}`);
    assert.deepEqual(dialogs, [], `dialogs in ${view}`);
    assert.deepEqual(await tab.evaluate(() => window.__violations), [], `CSP violations in ${view}`);
    // Nothing but the app's own elements: no injected img, svg, iframe, script, a, form...
    const injected = await tab.evaluate(() => [...document.querySelectorAll(
      'main img, main svg, main iframe, main script, main a, main object, main embed, main video, ' +
      'main audio, main details, main marquee, main style, main link, main meta, main base, main math, ' +
      'main template, main textarea, main xmp, main noscript, main body')].length);
    assert.equal(injected, 0, `elements injected in ${view}`);
    assert.equal(await tab.evaluate(() => document.querySelectorAll('script').length), 1);
  };
  await tab.goto(`${base}/?limit=100#/`);
  await check('overview');
  const text = await tab.textContent('main');
  const shown = hostile.filter((h) => text.includes(h.trim()));
  assert.ok(shown.length >= 45, `${shown.length} hostile strings shown as text in the overview`);
  const options = await tab.$$eval('#app option', (o) => o.map((x) => x.textContent));
  assert.ok(hostile.filter((_, i) => i % 5 === 0).every((h) => options.includes(h)),
            'hostile app ids listed as text in the app picker');
  await tab.goto(`${base}/#/bad`);
  await check('bad');
  const badText = await tab.textContent('main');
  assert.ok(badRows.latest.length > 0 && badText.includes(badRows.latest[0].messages[0]),
            'bad row reasons shown as text');
  await tab.goto(`${base}/#/pixel`);
  await check('pixel');
  await tab.fill('[data-testid="pixel"] input >> nth=2', hostile[3]);  // page title
  await tab.waitForTimeout(200);
  assert.match(await tab.textContent('[data-testid="pixel-tag"]'), /^<img src="/);
  assert.equal(await tab.evaluate(() => document.querySelectorAll('main img').length), 0);
  assert.equal(await tab.evaluate(() => window.__xss), undefined);

  // Every dashboard response carried the strict CSP.
  assert.ok(responses.length >= 15, `${responses.length} responses`);
  for (const r of responses) {
    assert.equal(r.headers()['content-security-policy'], kCsp, r.url());
    assert.equal(r.headers()['x-content-type-options'], 'nosniff', r.url());
  }
  for (const p of ['/', '/assets/app.js', '/assets/app.css', '/api/summary', '/api/nope',
                   '/api/summary?from=bad']) {
    const r = await fetch(base + p);
    assert.equal(r.headers.get('content-security-policy'), kCsp, p);
  }
  console.log(`xss: ${hostile.length} hostile strings, ${shown.length} shown as text, no script ran`);
} finally {
  await cleanup();
}
