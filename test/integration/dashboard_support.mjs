// Shared by the dashboard's integration tests (not a test itself: no _test suffix): start
// `furrow run` on a free port with a temp data dir, launch Debian's headless Chromium, clean up.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';

export const source = process.env.FURROW_SOURCE_DIR ?? '.';
export const shared = process.env.FURROW_SHARED ?? path.join(source, '../shared');
export const bin = process.env.FURROW_BIN ?? path.join(source, 'build/release/furrow');
export const buildDir = process.env.FURROW_BUILD_DIR ?? path.dirname(bin);
export const require = createRequire(path.join(source, 'package.json'));

export const kCsp = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
  "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

const cleanups = [];
export function onCleanup(f) { cleanups.push(f); }
let cleaned = false;
export async function cleanup() {
  if (cleaned) return;
  cleaned = true;
  for (const f of cleanups.reverse()) {
    try { await f(); } catch (_) { /* best effort */ }
  }
}
process.on('exit', () => { for (const f of cleanups) { try { f(); } catch (_) { /* */ } } });

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function deadline(ms) {
  const t = setTimeout(async () => {
    console.error(`timed out after ${ms} ms`);
    await cleanup();
    process.exit(1);
  }, ms);
  t.unref();
}

// Starts furrow run; resolves with its base URL once it prints where it listens.
export async function startRun(prefix) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const config = path.join(tmp, 'furrow.yaml');
  fs.writeFileSync(config, [
    'run:',
    `  iglu_registry: ${path.join(shared, 'iglu-central')}`,
    '  default_enrichments: true',
    // Models (and the dashboard's refresh after them) after every commit, so the last events show.
    '  models_interval_ms: 1',
    '',
  ].join('\n'));
  const proc = spawn(bin, ['run', '--config', config, '--port', '0', '--data-dir',
                           path.join(tmp, 'data')],
                     { env: { ...process.env, FURROW_TOKEN: '' }, stdio: ['ignore', 'ignore', 'pipe'] });
  onCleanup(() => {
    if (proc.exitCode === null) proc.kill('SIGKILL');
    fs.rmSync(tmp, { recursive: true, force: true });
  });
  const base = await new Promise((resolve, reject) => {
    let err = '';
    proc.stderr.on('data', (d) => {
      err += d;
      const m = err.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (m) resolve(m[1]);
    });
    proc.on('exit', (code) => reject(new Error(`furrow run exited ${code}: ${err}`)));
  });
  return { base, port: Number(new URL(base).port), tmp };
}

export async function launchChromium() {
  const { chromium } = require('playwright-core');
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless',
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
  onCleanup(() => browser.close());
  return browser;
}

// Polls `f` (async, returns a truthy value when done) every 100 ms until `ms` have passed.
export async function until(f, ms, what) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await f();
    if (last) return last;
    await sleep(100);
  }
  throw new Error(`waited ${ms} ms for ${what}`);
}

export async function getJson(url) {
  const r = await fetch(url);
  return { status: r.status, headers: r.headers, json: await r.json() };
}

// furrow run serves the dashboard and its API on its port: fail at once, naming the status, when
// it does not (the tests below would otherwise time out on a page that is not the dashboard).
export async function skipUnlessDashboard(base) {
  const r = await fetch(`${base}/api/apps`);
  const body = await r.text();
  if (r.status !== 200 || !body.includes('furrow_version')) {
    console.error(`FAIL: furrow run does not serve the dashboard (/api/apps: ${r.status})`);
    await cleanup();
    process.exit(1);
  }
  return true;
}
