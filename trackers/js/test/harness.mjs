// Shared by the sp.js and pixel integration tests (test/integration/spjs_*_test.mjs,
// pixel_*_test.mjs): a furrow collector writing a raw log in a temp dir, `furrow enrich` over that
// log (with Iglu validation against $FURROW_SHARED/iglu-central and the captures' schemas), a
// static page server and headless Chromium. Everything binds 127.0.0.1 on ephemeral ports and is
// stopped by cleanup(), which the tests call in `finally` and on signals.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

export const source = process.env.FURROW_SOURCE_DIR ?? path.resolve(new URL('../../..', import.meta.url).pathname);
export const buildDir = process.env.FURROW_BUILD_DIR ?? path.join(source, 'build/release');
export const bin = process.env.FURROW_BIN ?? path.join(buildDir, 'furrow');
export const shared = process.env.FURROW_SHARED ?? path.join(source, '../shared');
const require = createRequire(path.join(source, 'package.json'));
export const { transform } = require('snowplow-analytics-sdk');
const { chromium } = require('playwright-core');

export const spJsPath = path.join(buildDir, 'generated/assets/sp.js');
const cleanups = [];

export function cleanup() {
  while (cleanups.length) {
    try {
      cleanups.pop()();
    } catch {
      // keep cleaning up
    }
  }
}
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(1);
  });
}
process.on('exit', cleanup);

export function tempDir(prefix) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  cleanups.unshift(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Polls `fn` until it returns a truthy value or `ms` pass (then fails with `what`, a string or
// an async function describing the state).
export async function until(fn, ms, what) {
  const end = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) {
      assert.fail(`timed out after ${ms} ms waiting for ${typeof what == 'function' ? await what() : what}`);
    }
    await sleep(100);
  }
}

// Starts `furrow <args>` and waits (at most `limitMs`) for its "listening on 127.0.0.1:PORT" line
// on stderr; returns the port and a stop() that sends SIGTERM, then SIGKILL after 10 s.
async function startListening(args, what, limitMs) {
  const child = spawn(bin, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const kill = () => child.exitCode === null && child.kill('SIGKILL');
  cleanups.push(kill);
  let err = '';
  const port = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start: ${err}`)), limitMs);
    child.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/listening on (?:http:\/\/)?127\.0\.0\.1:(\d+)/);
      if (m) {
        clearTimeout(timer);
        resolve(Number(m[1]));
      }
    });
    child.on('exit', (code) => reject(new Error(`${what} exited ${code}: ${err}`)));
  });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((r) => child.on('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(10000)]);
    kill();
  };
  return { port, stop };
}

// A furrow collector on 127.0.0.1 (port 0 = ephemeral) storing a raw log under `dir`.
export async function startCollector(dir, port = 0) {
  fs.mkdirSync(dir, { recursive: true });
  const c = await startListening(['collector', '--host', '127.0.0.1', '--port', String(port), '--sink',
    `rawlog:${dir}`, '--durability', 'buffered'], 'collector', 15000);
  return { port: c.port, url: `http://127.0.0.1:${c.port}`, dir, stop: c.stop };
}

// Iglu resolver for enrich: iglu-central plus the captures' com.example schemas.
function resolverFile(dir) {
  const file = path.join(dir, 'resolver.json');
  const repo = (name, p, priority) => ({ name, priority, vendorPrefixes: [], connection: { embedded: { path: p } } });
  fs.writeFileSync(file, JSON.stringify({
    schema: 'iglu:com.snowplowanalytics.iglu/resolver-config/jsonschema/1-0-3',
    data: { cacheSize: 500, cacheTtl: 600, repositories: [
      repo('Iglu Central', path.join(shared, 'iglu-central'), 0),
      repo('Captures', path.join(shared, 'captures'), 1),
    ] },
  }));
  return file;
}

// Enriches every raw log directory given; returns the good events (as the Snowplow analytics SDK
// reads them) and the bad rows.
export function enrich(work, rawDirs) {
  const good = [];
  const bad = [];
  const resolver = resolverFile(work);
  for (const [i, dir] of rawDirs.entries()) {
    const goodFile = path.join(work, `good-${i}.tsv`);
    const badFile = path.join(work, `bad-${i}.jsonl`);
    const r = spawnSync(bin, ['enrich', '--input-format', 'rawlog', '--input', dir, '--output', goodFile,
      '--bad', badFile, '--resolver', resolver, '--quiet', '--threads', '1'], { encoding: 'utf8', timeout: 30000 });
    assert.equal(r.status, 0, `furrow enrich failed: ${r.stderr}`);
    for (const l of fs.readFileSync(goodFile, 'utf8').split('\n')) if (l) good.push(transform(l));
    for (const l of fs.readFileSync(badFile, 'utf8').split('\n')) if (l) bad.push(JSON.parse(l));
  }
  return { good, bad };
}

// Serves `pages` (path → HTML) and /sp.js (the built bundle) on 127.0.0.1.
export async function startPages(pages) {
  const server = http.createServer((req, res) => {
    const p = req.url.split('?')[0];
    if (p === '/sp.js') {
      res.writeHead(200, { 'Content-Type': 'text/javascript' });
      res.end(fs.readFileSync(spJsPath));
    } else if (pages[p] !== undefined) {
      res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
      res.end(pages[p]);
    } else {
      res.writeHead(404);
      res.end();
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => server.close());
  const { port } = server.address();
  return { url: `http://127.0.0.1:${port}`, server };
}

export async function launchBrowser() {
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  cleanups.push(() => browser.close());
  return browser;
}

// The events of one entity type ("web_page_1") in a transformed good event.
export function entities(ev, name) {
  return ev[`contexts_com_snowplowanalytics_snowplow_${name}`] ?? [];
}

// Runs `body` with a hard time limit, then cleans up and sets the exit code.
export function run(name, limitMs, body) {
  const timer = setTimeout(() => {
    console.error(`${name}: over the ${limitMs} ms limit`);
    cleanup();
    process.exit(1);
  }, limitMs);
  body().then(
    () => {
      clearTimeout(timer);
      console.log(`${name}: ok`);
      cleanup();
    },
    (e) => {
      clearTimeout(timer);
      console.error(e);
      cleanup();
      process.exit(1);
    },
  );
}

// `furrow run` on 127.0.0.1 (ephemeral port) with a temporary data directory and one static Iglu
// registry made of Iglu Central and the captures' com.example schemas (symlinked vendors).
export async function startRun(work) {
  const registry = path.join(work, 'run-iglu');
  fs.mkdirSync(path.join(registry, 'schemas'), { recursive: true });
  for (const root of [path.join(shared, 'iglu-central/schemas'), path.join(shared, 'captures/schemas')]) {
    for (const vendor of fs.readdirSync(root)) {
      const link = path.join(registry, 'schemas', vendor);
      if (!fs.existsSync(link)) fs.symlinkSync(path.join(root, vendor), link);
    }
  }
  const config = path.join(work, 'run.yaml');
  fs.writeFileSync(config, `run:\n  iglu_registry: ${registry}\n`);
  const { port, stop } = await startListening(['run', '--config', config, '--host', '127.0.0.1', '--port', '0',
    '--data-dir', path.join(work, 'run-data')], 'furrow run', 20000);
  const url = `http://127.0.0.1:${port}`;
  const get = async (p) => {
    const r = await fetch(url + p);
    assert.equal(r.status, 200, `GET ${p}`);
    return r.json();
  };
  return {
    port,
    url,
    // Good events (analytics-SDK shape) and bad rows from the Micro API, once at least `atLeast`
    // good events arrived and the counts have stopped changing for a second.
    async events(atLeast, timeoutMs = 20000) {
      await get(`/micro/wait?count=${atLeast}&timeout=${timeoutMs}`);
      let last = '';
      let same = 0;
      const deadline = Date.now() + timeoutMs;
      while (same < 4 && Date.now() < deadline) {
        const counts = JSON.stringify(await get('/micro/all'));
        same = counts === last ? same + 1 : 0;
        last = counts;
        await sleep(250);
      }
      const good = (await get('/micro/good')).map((g) => microToSdk(g.event));
      const bad = await get('/micro/bad');
      return { good, bad };
    },
    stop,
  };
}

// A Micro good event's `event` (self-describing columns as JSON) → the analytics SDK's flat shape
// (`contexts_<vendor>_<name>_<model>` arrays, `unstruct_event_<vendor>_<name>_<model>` objects).
function entityKey(prefix, schema) {
  const m = /^iglu:([^/]+)\/([^/]+)\/[^/]+\/(\d+)-/.exec(schema);
  const snake = (s) => s.replace(/([a-z0-9])([A-Z])/g, '$1_$2').replace(/[.-]/g, '_').toLowerCase();
  return `${prefix}_${snake(m[1])}_${snake(m[2])}_${m[3]}`;
}
export function microToSdk(e) {
  const out = {};
  for (const [k, v] of Object.entries(e)) {
    if (v !== null && k !== 'unstruct_event' && k !== 'contexts' && k !== 'derived_contexts') out[k] = v;
  }
  if (e.unstruct_event) out[entityKey('unstruct_event', e.unstruct_event.data.schema)] = e.unstruct_event.data.data;
  for (const c of [...(e.contexts?.data ?? []), ...(e.derived_contexts?.data ?? [])]) {
    const k = entityKey('contexts', c.schema);
    (out[k] ??= []).push(c.data);
  }
  return out;
}
