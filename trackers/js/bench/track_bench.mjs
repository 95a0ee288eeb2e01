// sp.js cost in headless Chromium (run by bench/spjs.sh):
//  1. bundle size (raw and gzipped);
//  2. tracking cost per event in the page (trackStructEvent incl. the localStorage outbox write),
//     with a collector answering (a minimal node server, so the collector's own speed is out);
//  3. end-to-end: events/s from trackStructEvent until the collector has them all, batched POST;
//  4. the same tracking cost during an outage, as the outbox grows to 1000 events (each write
//     re-reads and rewrites the shared stored outbox, so the cost grows with its length).
import http from 'node:http';
import fs from 'node:fs';
import zlib from 'node:zlib';
import { launchBrowser, spJsPath, cleanup } from '../test/harness.mjs';

const N = Number(process.env.SPJS_BENCH_EVENTS ?? 1000); // the outbox keeps at most 1000
const bundle = fs.readFileSync(spJsPath);
console.log(`bundle: ${bundle.length} bytes, ${zlib.gzipSync(bundle, { level: 9 }).length} bytes gzipped`);

let received = 0;
const server = http.createServer((req, res) => {
  const cors = { 'Access-Control-Allow-Origin': req.headers.origin || '*', 'Access-Control-Allow-Credentials': 'true',
    'Access-Control-Allow-Headers': 'Content-Type, SP-Anonymous', 'Access-Control-Max-Age': '3600' };
  if (req.url === '/sp.js') {
    res.writeHead(200, { 'Content-Type': 'text/javascript' });
    return res.end(bundle);
  }
  if (req.url === '/') {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    return res.end('<!doctype html><html><head><script src="/sp.js"></script></head><body></body></html>');
  }
  let body = '';
  req.on('data', (d) => (body += d));
  req.on('end', () => {
    if (req.method === 'POST') received += JSON.parse(body).data.length;
    res.writeHead(200, cors);
    res.end('ok');
  });
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;
const browser = await launchBrowser();
const tab = await browser.newPage();
await tab.goto(base + '/');

const perEvent = await tab.evaluate(([url, n]) => {
  furrow.newTracker('bench', url, { appId: 'bench' });
  const t0 = performance.now();
  for (let i = 0; i < n; i++) furrow.trackStructEvent({ category: 'bench', action: 'a' + i, value: i });
  return ((performance.now() - t0) * 1000) / n;
}, [base, N]);
const t0 = Date.now();
while (received < N && Date.now() - t0 < 60000) await new Promise((r) => setTimeout(r, 20));
const secs = (Date.now() - t0) / 1000;
console.log(`tracking, collector up: ${perEvent.toFixed(1)} us/event in the page (${N} events in one task)`);
console.log(`delivery: ${received} events in ${secs.toFixed(2)} s after tracking ended`);

// Outage: a closed port; one event per task so that failures and retries interleave.
const dead = http.createServer();
await new Promise((r) => dead.listen(0, '127.0.0.1', r));
const deadUrl = `http://127.0.0.1:${dead.address().port}`;
dead.close();
const outage = await tab.evaluate(async (url) => {
  furrow.newTracker('down', url, { appId: 'bench', retryMinDelay: 60000 });
  const costs = [];
  for (let i = 0; i < 1000; i++) {
    const t = performance.now();
    furrow('trackStructEvent:down', { category: 'down', action: 'a' + i });
    costs.push(performance.now() - t);
    if (i % 50 == 0) await new Promise((r) => setTimeout(r, 0));
  }
  const avg = (a) => (a.reduce((x, y) => x + y, 0) / a.length) * 1000;
  return { first100: avg(costs.slice(0, 100)), last100: avg(costs.slice(900)) };
}, deadUrl);
console.log(`tracking, collector down: ${outage.first100.toFixed(0)} us/event with <100 waiting, ` +
  `${outage.last100.toFixed(0)} us/event with 900-1000 waiting`);
server.close();
cleanup();
process.exit(0);
