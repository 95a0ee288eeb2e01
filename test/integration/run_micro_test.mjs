// `furrow run` end to end with the official @snowplow/node-tracker: events go through the
// collector, the raw log, enrichment and SQLite; /micro/wait answers once they are committed;
// /micro/good filters and /micro/bad behave like Snowplow Micro's; the rows are in SQLite.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const source = process.env.FURROW_SOURCE_DIR ?? '.';
const shared = process.env.FURROW_SHARED ?? path.join(source, '../shared');
const bin = process.env.FURROW_BIN ?? path.join(source, 'build/release/furrow');
const require = createRequire(path.join(source, 'package.json'));
const { newTracker, buildPageView, buildStructEvent, buildSelfDescribingEvent } =
  require('@snowplow/node-tracker');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'furrow-run-micro-'));
let proc;
function cleanup() {
  if (proc && proc.exitCode === null) proc.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
}
process.on('exit', cleanup);
const deadline = setTimeout(() => { console.error('timed out'); process.exit(1); }, 50_000);

// Iglu Central as the local registry, so the standard entities validate.
const config = path.join(tmp, 'furrow.yaml');
fs.writeFileSync(config, `run:\n  iglu_registry: ${JSON.stringify(path.join(shared, 'iglu-central'))}\n`);

function start() {
  return new Promise((resolve, reject) => {
    proc = spawn(bin, ['run', '--config', config, '--port', '0', '--data-dir', path.join(tmp, 'data')],
                 { env: { ...process.env, FURROW_TOKEN: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    proc.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`furrow run exited ${code}: ${err}`)));
  });
}

const base = await start();
const port = Number(new URL(base).port);
const get = async (p, init) => {
  const r = await fetch(base + p, init);
  return { status: r.status, headers: r.headers, json: await r.json() };
};

// Nothing yet.
let all = await get('/micro/all');
assert.equal(all.status, 200);
assert.deepEqual(all.json, { total: 0, good: 0, bad: 0 });
assert.match(all.headers.get('content-security-policy'), /frame-ancestors 'none'/);
assert.equal(all.headers.get('x-content-type-options'), 'nosniff');

// Events from the official Node tracker (POST tp2 batches).
const tracker = newTracker({ namespace: 'itest', appId: 'run-micro', encodeBase64: true },
  { endpoint: '127.0.0.1', port, protocol: 'http', eventMethod: 'post', bufferSize: 5 });
const linkSchema = 'iglu:com.snowplowanalytics.snowplow/link_click/jsonschema/1-0-1';
const pageSchema = 'iglu:com.snowplowanalytics.snowplow/web_page/jsonschema/1-0-0';
const webPage = { schema: pageSchema, data: { id: '0f3b5c57-6bd1-4c52-8b1f-3f2d7f0e4a10' } };
// Wait before sending: the answer must come from the arrival of the events, not polling.
const waiting = get('/micro/wait?count=6&timeout=30000');
tracker.track(buildPageView({ pageUrl: 'https://shop.example/a', pageTitle: 'A <b>page</b>' }), [webPage]);
tracker.track(buildPageView({ pageUrl: 'https://shop.example/b', pageTitle: 'B' }));
tracker.track(buildStructEvent({ category: 'shop', action: 'add', label: 'sku-1', value: 2 }));
tracker.track(buildSelfDescribingEvent({ event: { schema: linkSchema,
  data: { targetUrl: 'https://elsewhere.example/' } } }), [webPage]);
tracker.track(buildSelfDescribingEvent({ event: { schema: linkSchema,
  data: { targetUrl: 'https://elsewhere.example/2' } } }));
// Invalid against the schema (targetUrl is required): a bad row.
tracker.track(buildSelfDescribingEvent({ event: { schema: linkSchema, data: { elementId: 'x' } } }));
tracker.track(buildStructEvent({ category: 'shop', action: 'remove' }));
await tracker.flush();

const waited = await waiting;
assert.equal(waited.status, 200, JSON.stringify(waited.json));
assert.equal(waited.json.satisfied, true);
assert.ok(waited.json.good >= 6);

// All good ones arrived (the bad one may be committed in the same transaction or the next).
const waitAll = await get('/micro/wait?count=6&timeout=5000');
assert.equal(waitAll.status, 200);
for (let i = 0; i < 100; i++) {
  all = await get('/micro/all');
  if (all.json.bad >= 1) break;
  await new Promise((r) => setTimeout(r, 50));
}
assert.deepEqual(all.json, { total: 7, good: 6, bad: 1 });

// /micro/good with Micro's filters.
let good = await get('/micro/good');
assert.equal(good.json.length, 6);
for (const e of good.json) {
  assert.equal(e.event.app_id, 'run-micro');
  assert.match(e.event.collector_tstamp, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
}
const post = (p, body) => get(p, { method: 'POST', headers: { 'Content-Type': 'application/json' },
  body: JSON.stringify(body) });
good = await post('/micro/good', { event_type: 'page_view' });
assert.equal(good.json.length, 2);
assert.ok(good.json.some((e) => e.event.page_title === 'A <b>page</b>'));
good = await post('/micro/good', { schema: linkSchema });
assert.equal(good.json.length, 2);
assert.ok(good.json.every((e) => e.eventType === 'unstruct' && e.schema === linkSchema));
good = await post('/micro/good', { contexts: [pageSchema] });
assert.equal(good.json.length, 2);
good = await post('/micro/good', { schema: linkSchema, contexts: [pageSchema] });
assert.equal(good.json.length, 1);
assert.equal(good.json[0].event.unstruct_event.data.data.targetUrl, 'https://elsewhere.example/');
good = await post('/micro/good', { event_type: 'struct', limit: 1 });
assert.equal(good.json.length, 1);
assert.equal(good.json[0].event.se_action, 'remove');  // newest first
const refused = await post('/micro/good', { limit: 'ten' });
assert.equal(refused.status, 400);

// /micro/bad names the failure.
const bad = await get('/micro/bad');
assert.equal(bad.json.length, 1);
assert.match(JSON.stringify(bad.json[0].errors), /targetUrl/);
assert.match(bad.json[0].badRow.schema, /schema_violations/);

// The same events are rows in SQLite.
const db = path.join(tmp, 'data', 'furrow.db');
const q = (sql) => {
  const r = spawnSync(bin, ['query', '--db', `sqlite:${db}`, '--format', 'tsv', sql], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').slice(1);
};
assert.deepEqual(q("select count(*) from atomic_events where app_id = 'run-micro'"), ['6']);
assert.deepEqual(q("select count(*) from atomic_events where event = 'page_view'"), ['2']);
assert.deepEqual(q('select count(*) from bad_rows'), ['1']);

// A cross-site reset is refused; a same-origin one clears the store.
const cross = await fetch(base + '/micro/reset', { headers: { 'Sec-Fetch-Site': 'cross-site' } });
assert.equal(cross.status, 403);
// A DNS-rebinding page reaches us under its own host name: refused.
const rebound = await new Promise((resolve, reject) => {
  http.get({ host: '127.0.0.1', port, path: '/micro/all', headers: { Host: 'attacker.example' } },
           (res) => { res.resume(); resolve(res.statusCode); }).on('error', reject);
});
assert.equal(rebound, 403);
const reset = await get('/micro/reset');
assert.equal(reset.status, 200);
assert.deepEqual((await get('/micro/all')).json, { total: 0, good: 0, bad: 0 });
const timeout = await get('/micro/wait?count=1&timeout=100');
assert.equal(timeout.status, 408);
assert.equal(timeout.json.satisfied, false);

// Collector routes stay public and unchanged.
const health = await fetch(base + '/health');
assert.equal(health.status, 200);

// SIGTERM: a clean stop.
proc.removeAllListeners('exit');
const code = await new Promise((r) => { proc.once('exit', (c) => r(c)); proc.kill('SIGTERM'); });
assert.equal(code, 0);
clearTimeout(deadline);
console.log('run_micro_test: ok');
