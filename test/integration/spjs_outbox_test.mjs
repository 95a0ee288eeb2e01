// sp.js outbox (trackers/js/src/outbox.js) in node, with a fake localStorage and fetch, for the
// races between tabs that Chromium's tests hit only now and then. Chromium propagates
// localStorage writes to other tabs asynchronously, so a tab can write back an old copy of the
// outbox after another tab has changed it. Such a stale write must never bring back an event
// that was already delivered: it would stay in the outbox under a page that is gone, be sent
// again once it goes stale, and keep the outbox from ever draining.
import assert from 'node:assert/strict';

const store = new Map();
globalThis.window = globalThis;
globalThis.addEventListener = () => {};
globalThis.localStorage = {
  getItem: (k) => (store.has(k) ? store.get(k) : null),
  setItem: (k, v) => store.set(k, String(v)),
};
// Each fetch waits until the test answers it.
const requests = [];
globalThis.fetch = (url, opts) =>
  new Promise((resolve) => requests.push({ url, body: JSON.parse(opts.body), answer: (status) => resolve({ status }) }));

const { Outbox } = await import('../../trackers/js/src/outbox.js');
const KEY = 'furrow_outbox_sp';
const tick = () => new Promise((r) => setTimeout(r, 5));
const stored = () => JSON.parse(store.get(KEY) || '[]');
const item = (eid, o) => ({ p: { e: 'se', eid, se_ac: eid }, a: 2, o, t: Date.now() });
const cfg = { retryMinDelay: 50, retryMaxDelay: 100 };

async function deliveredEventsStayGoneAfterAStaleWrite() {
  store.clear();
  requests.length = 0;
  // A reloaded page left three failed events (disowned by its pagehide); another open tab has one.
  store.set(KEY, JSON.stringify([item('off-1', null), item('off-2', null), item('off-3', null), item('b-1', 'tab-b')]));
  const page = new Outbox('sp', 'http://collector', cfg, false);
  assert.deepEqual(stored().filter((it) => it.o === page.me).map((it) => it.p.eid), ['off-1', 'off-2', 'off-3']);
  await tick();
  assert.equal(requests.length, 1, 'the claimed events are sent');
  assert.deepEqual(requests[0].body.data.map((d) => d.eid), ['off-1', 'off-2', 'off-3']);

  // While the request is in flight, the other tab writes back the copy it read before the reload:
  // the three events still owned by the page that left.
  store.set(KEY, JSON.stringify([item('off-1', 'left'), item('off-2', 'left'), item('off-3', 'left'), item('b-1', 'tab-b')]));
  requests[0].answer(200);
  await tick();
  assert.deepEqual(stored().map((it) => it.p.eid), ['b-1'], 'delivered events are not kept for the page that left');

  // The same stale copy landing again later is cleaned up by this page's next write.
  store.set(KEY, JSON.stringify([item('off-2', 'left'), item('b-1', 'tab-b')]));
  page.add({ e: 'se', eid: 'online-1', se_ac: 'online-1' });
  await tick();
  assert.deepEqual(stored().map((it) => it.p.eid).sort(), ['b-1', 'online-1']);
  requests[1].answer(200);
  await tick();
  assert.deepEqual(stored().map((it) => it.p.eid), ['b-1']);
}

async function eventsOfOtherPagesAreKept() {
  store.clear();
  requests.length = 0;
  store.set(KEY, JSON.stringify([item('b-1', 'tab-b')]));
  const page = new Outbox('sp', 'http://collector', cfg, false);
  page.add({ e: 'se', eid: 'a-1', se_ac: 'a-1' });
  await tick();
  // The other tab adds an event of its own meanwhile.
  store.set(KEY, JSON.stringify([...stored(), item('b-2', 'tab-b')]));
  requests[0].answer(503);
  await tick();
  assert.deepEqual(stored().map((it) => it.p.eid).sort(), ['a-1', 'b-1', 'b-2'], 'a failed send keeps everything');
  await new Promise((r) => setTimeout(r, 150));
  assert.equal(requests.length, 2, 'retried after the back-off');
  requests[1].answer(200);
  await tick();
  assert.deepEqual(stored().map((it) => it.p.eid).sort(), ['b-1', 'b-2']);
}

await deliveredEventsStayGoneAfterAStaleWrite();
await eventsOfOtherPagesAreKept();
console.log('spjs_outbox: ok');
