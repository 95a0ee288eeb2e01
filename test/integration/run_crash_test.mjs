// Acceptance 3 of issue 7: `kill -9` of `furrow run` under load, 12 times; after the last restart
// every event whose request was answered 200 is in SQLite exactly once (unique event ids; the
// loader's idempotence removes what a restart replays from the raw log).
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const source = process.env.FURROW_SOURCE_DIR ?? '.';
const bin = process.env.FURROW_BIN ?? path.join(source, 'build/release/furrow');
const kills = Number(process.env.RUN_CRASH_KILLS ?? 12);
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'furrow-run-crash-'));
const dataDir = path.join(tmp, 'data');
// Exactly-once is about the raw log, the loader and the checkpoint: the optional enrichments
// (seconds of start-up to load their databases) only slow the 13 restarts down.
const config = path.join(tmp, 'furrow.yaml');
fs.writeFileSync(config, 'run:\n  default_enrichments: false\n');
let proc;
process.on('exit', () => {
  if (proc && proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
  fs.rmSync(tmp, { recursive: true, force: true });
});
setTimeout(() => { console.error('run_crash_test: timed out'); process.exit(1); }, 55_000).unref();

function start() {
  return new Promise((resolve, reject) => {
    proc = spawn(bin, ['run', '--config', config, '--port', '0', '--data-dir', dataDir],
                 { env: { ...process.env, FURROW_TOKEN: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    const p = proc;
    p.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]);
    });
    p.on('exit', (code, sig) => { if (sig !== 'SIGKILL') reject(new Error(`exited ${code}: ${err}`)); });
  });
}

const acked = new Set();
let sent = 0;
function batch(n) {
  const now = Date.now();
  const data = [];
  for (let i = 0; i < n; i++) {
    data.push({ e: 'pv', eid: randomUUID(), p: 'web', tv: 'js-4.0.0', aid: 'crash',
                url: 'https://shop.example/p' + (sent + i), dtm: String(now), stm: String(now) });
  }
  sent += n;
  return data;
}

// Keeps 4 requests in flight until `stop()`; records the event ids of 200 answers.
function load(base) {
  let running = true;
  const worker = async () => {
    while (running) {
      const data = batch(20);
      try {
        const r = await fetch(base + '/com.snowplowanalytics.snowplow/tp2', {
          method: 'POST', headers: { 'Content-Type': 'application/json; charset=UTF-8' },
          body: JSON.stringify({ schema: 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4', data }),
        });
        await r.arrayBuffer();
        if (r.status === 200) for (const e of data) acked.add(e.eid);
      } catch { /* connection cut by the kill: not acknowledged */ }
    }
  };
  const workers = [worker(), worker(), worker(), worker()];
  return () => { running = false; return Promise.all(workers); };
}

for (let k = 0; k < kills; k++) {
  const base = await start();
  const stop = load(base);
  await new Promise((r) => setTimeout(r, 300 + Math.random() * 900));
  proc.kill('SIGKILL');
  await new Promise((r) => proc.once('exit', r));
  await stop();
}

// Final start: everything acknowledged must be loaded, once.
const base = await start();
const db = path.join(dataDir, 'furrow.db');
const q = (sql) => {
  const r = spawnSync(bin, ['query', '--db', `sqlite:${db}`, '--format', 'tsv', sql], { encoding: 'utf8', maxBuffer: 1 << 28 });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim().split('\n').slice(1);
};
let ids = [];
for (let i = 0; i < 200; i++) {
  ids = q("select event_id from atomic_events where app_id = 'crash'");
  const have = new Set(ids);
  if ([...acked].every((e) => have.has(e))) break;
  await new Promise((r) => setTimeout(r, 100));
}
const have = new Set(ids);
const missing = [...acked].filter((e) => !have.has(e));
assert.equal(missing.length, 0, `${missing.length} acknowledged events missing`);
assert.equal(ids.length, have.size, `${ids.length - have.size} duplicate rows`);
assert.ok(acked.size > 1000, `only ${acked.size} events acknowledged: not under load`);
const code = await new Promise((r) => { proc.removeAllListeners('exit'); proc.once('exit', (c) => r(c)); proc.kill('SIGTERM'); });
assert.equal(code, 0);
console.log(`run_crash_test: ${kills} kills, ${acked.size} acknowledged of ${sent} sent, ` +
            `${ids.length} rows, 0 missing, 0 duplicates`);
