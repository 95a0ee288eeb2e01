// Issue #8 acceptance 4: the <img> tags printed by `furrow pixel` (a page view and a structured
// event), put into an HTML page and opened twice by headless Chromium, record one good event per
// image load: every open is its own event with its own event id, since the URL carries none.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { bin, enrich, launchBrowser, run, startCollector, startPages, tempDir } from
  '../../trackers/js/test/harness.mjs';

function pixel(args) {
  const r = spawnSync(bin, ['pixel', ...args], { encoding: 'utf8', timeout: 10000 });
  assert.equal(r.status, 0, r.stderr);
  const [tag, url] = r.stdout.trimEnd().split('\n');
  assert.match(tag, /^<img src="[^"]+" width="1" height="1" alt="" /);
  assert.ok(url.startsWith('http://127.0.0.1:') && !url.includes('eid='), url);
  return tag;
}

run('pixel_email', 55000, async () => {
  const work = tempDir('furrow-pixel-');
  const collector = await startCollector(path.join(work, 'raw'));
  const pv = pixel(['--collector', collector.url, '--app-id', 'newsletter', '--page', 'Spring issue – 1+1 & more',
    '--url', 'https://example.com/mail/spring?utm_source=mail']);
  const se = pixel(['--collector', collector.url + '/', '--app-id', 'newsletter', '--event', 'se',
    '--category', 'email', '--action', 'open', '--label', 'spring 2026', '--value', '1.50', '--user-id', 'u@example.com']);
  // Usage errors are reported, not turned into a pixel.
  const badRun = spawnSync(bin, ['pixel', '--collector', collector.url, '--app-id', 'x', '--event', 'se'], { encoding: 'utf8' });
  assert.equal(badRun.status, 2);
  assert.match(badRun.stderr, /--category and --action/);

  const site = await startPages({ '/mail': `<!doctype html><html><body><p>Hello</p>${pv}${se}</body></html>` });
  const browser = await launchBrowser();
  for (let open = 0; open < 2; open++) {
    const context = await browser.newContext(); // a fresh mail client: no cache
    const tab = await context.newPage();
    await tab.goto(site.url + '/mail');
    await tab.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth === 1));
    await context.close();
  }
  await collector.stop();

  const { good, bad } = enrich(work, [collector.dir]);
  assert.deepEqual(bad, []);
  assert.equal(good.length, 4, 'one event per image load');
  assert.equal(new Set(good.map((e) => e.event_id)).size, 4, 'each open has its own event id');
  for (const e of good) {
    assert.equal(e.app_id, 'newsletter');
    assert.equal(e.platform, 'web');
    assert.equal(e.v_tracker, 'furrow-pixel-0.1.0');
    assert.equal(e.name_tracker, 'pixel');
  }
  const pvs = good.filter((e) => e.event === 'page_view');
  assert.equal(pvs.length, 2);
  for (const e of pvs) {
    assert.equal(e.page_title, 'Spring issue – 1+1 & more');
    assert.equal(e.page_url, 'https://example.com/mail/spring?utm_source=mail');
  }
  const ses = good.filter((e) => e.event === 'struct');
  assert.equal(ses.length, 2);
  for (const e of ses) {
    assert.deepEqual([e.se_category, e.se_action, e.se_label, Number(e.se_value), e.user_id],
      ['email', 'open', 'spring 2026', 1.5, 'u@example.com']);
  }
});
