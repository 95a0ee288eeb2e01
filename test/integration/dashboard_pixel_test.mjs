// The dashboard's Pixel page (web/src/pixel.js) builds the same tp1 URL and <img> tag as
// `furrow pixel`, byte for byte, for page views and structured events with awkward values; both
// refuse the same bad input.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const source = process.env.FURROW_SOURCE_DIR ?? '.';
const bin = process.env.FURROW_BIN ?? path.join(source, 'build/release/furrow');
const { buildPixel } = await import(pathToFileURL(path.join(source, 'web/src/pixel.js')).href);
const version = /project\(furrow VERSION ([0-9.]+)/.exec(
  fs.readFileSync(path.join(source, 'CMakeLists.txt'), 'utf8'))[1];

function cli(args) {
  const r = spawnSync(bin, ['pixel', ...args], { encoding: 'utf8', timeout: 10000 });
  return r.status === 0 ? { lines: r.stdout.trimEnd().split('\n') } : { error: r.stderr };
}

const cases = [
  [{ collector: 'https://c.example.com', appId: 'mail' }, ['--collector', 'https://c.example.com', '--app-id', 'mail']],
  [{ collector: 'http://127.0.0.1:8080/', appId: 'news letter', pageTitle: 'Spring <sale> & "more" 100% ü/é +1 !\'()*~', pageUrl: 'https://shop.example/a?b=c&d=e#f' },
   ['--collector', 'http://127.0.0.1:8080/', '--app-id', 'news letter', '--page', 'Spring <sale> & "more" 100% ü/é +1 !\'()*~', '--url', 'https://shop.example/a?b=c&d=e#f']],
  [{ collector: 'https://c.example.com', appId: 'mail', event: 'se', category: 'email', action: 'open', label: 'camp"aign<1>', property: 'a b', value: '2.5' },
   ['--collector', 'https://c.example.com', '--app-id', 'mail', '--event', 'se', '--category', 'email', '--action', 'open', '--label', 'camp"aign<1>', '--property', 'a b', '--value', '2.5']],
  [{ collector: 'https://c.example.com', appId: 'mail', event: 'se', category: 'c', action: 'a', value: '-10' },
   ['--collector', 'https://c.example.com', '--app-id', 'mail', '--event', 'se', '--category', 'c', '--action', 'a', '--value', '-10']],
];
for (const [input, args] of cases) {
  const want = cli(args);
  assert.ok(want.lines, `furrow pixel ${args.join(' ')}: ${want.error}`);
  const got = buildPixel(input, version);
  assert.equal(got.error, undefined, JSON.stringify(got));
  assert.equal(got.imgTag, want.lines[0], `tag for ${JSON.stringify(input)}`);
  assert.equal(got.url, want.lines[1], `URL for ${JSON.stringify(input)}`);
  assert.ok(!/\beid=/.test(got.url), 'no event id in an email pixel');
}

// Refused by both.
const refused = [
  [{ collector: 'ftp://c.example.com', appId: 'x' }, ['--collector', 'ftp://c.example.com', '--app-id', 'x']],
  [{ collector: 'https://c.example.com/path', appId: 'x' }, ['--collector', 'https://c.example.com/path', '--app-id', 'x']],
  [{ collector: 'https://c.example.com', appId: 'x', event: 'se', category: 'c' },
   ['--collector', 'https://c.example.com', '--app-id', 'x', '--event', 'se', '--category', 'c']],
  [{ collector: 'https://c.example.com', appId: 'x', event: 'se', category: 'c', action: 'a', value: 'ten' },
   ['--collector', 'https://c.example.com', '--app-id', 'x', '--event', 'se', '--category', 'c', '--action', 'a', '--value', 'ten']],
];
for (const [input, args] of refused) {
  assert.ok(cli(args).error !== undefined, `furrow pixel accepted ${args.join(' ')}`);
  assert.ok(buildPixel(input, version).error, `the Pixel page accepted ${JSON.stringify(input)}`);
}
console.log(`pixel: ${cases.length} tags identical to furrow pixel, ${refused.length} refusals agree`);
