// The outbox: every event is stored in localStorage before it is sent and removed only when the
// collector acknowledged it (2xx) or refused it for good (400, 401, 403, 410, 422, as Snowplow's
// trackers do). Failed sends are retried with exponential back-off; events left over by a
// previous page load are sent by the next one. The event id and every other parameter are fixed
// when the event is tracked; only stm (sent time) is stamped at each attempt.
//
// Tabs of one site share the stored outbox, so each stored event names its owner (o, a random id
// per page load) and when it was last tried (t). A page sends only its own events. It takes over
// the events whose page left (pagehide disowns them) or went silent for STALE ms (a crashed tab)
// when it loads and before each send, so two open tabs do not both send what one of them failed
// to deliver. (Best effort: localStorage has no transactions across tabs.)
//
// Chromium passes a tab's localStorage writes to the other tabs asynchronously, so a tab can write
// back an old copy of the outbox. A page remembers the ids of the events it delivered (or handed
// to the browser at unload) and drops them whenever it reads or writes the outbox, so such a
// stale copy cannot bring a delivered event back (test/integration/spjs_outbox_test.mjs).
import { now, on, uuid } from './util.js';

const win = window;
const PAYLOAD = 'iglu:com.snowplowanalytics.snowplow/payload_data/jsonschema/1-0-4';
const FINAL = [400, 401, 403, 410, 422];
const MAX_QUEUE = 1000;
const STALE = 600000;

const has = (list, it) => list.some((x) => x.p.eid == it.p.eid);

export class Outbox {
  constructor(name, endpoint, cfg, anon) {
    this.url = endpoint;
    this.key = 'furrow_outbox_' + name;
    // Browsers without fetch send GET image requests.
    this.get = cfg.eventMethod == 'get' || !win.fetch;
    this.postPath = cfg.postPath || '/com.snowplowanalytics.snowplow/tp2';
    this.buffer = cfg.bufferSize || 1;
    this.maxBytes = cfg.maxPostBytes || 40000;
    this.minDelay = cfg.retryMinDelay ?? 1000;
    this.maxDelay = cfg.retryMaxDelay ?? 60000;
    this.headers = anon ? { 'SP-Anonymous': '*' } : {};
    this.anon = anon;
    this.fails = 0;
    this.timer = 0;
    this.busy = null;
    this.me = uuid();
    this.q = [];
    this.sent = new Set();
    this.claim();
    on(win, 'online', () => this.flush(1));
    // Back from the back/forward cache after pagehide disowned the events: take back those that
    // no other page took meanwhile.
    on(win, 'pageshow', (e) => {
      if (e.persisted) {
        this.gone = 0;
        this.claim();
      }
    });
  }

  // The stored events of every page, or null when storage is unusable. `raw` is the stored text
  // when the caller already has it.
  stored(raw) {
    try {
      return JSON.parse(raw ?? localStorage.getItem(this.key)) || [];
    } catch {
      return null;
    }
  }

  // The stored text when another page changed it since this page's last write, else null.
  changedText() {
    try {
      const raw = localStorage.getItem(this.key);
      return raw === this.written ? null : raw || '[]';
    } catch {
      return null;
    }
  }

  claim() {
    const s = this.stored();
    if (s) {
      const t = now();
      this.q = s.filter((it) => !it.o || it.o == this.me || t - it.t > STALE);
      for (const it of this.q) it.o = this.me;
      this.save();
    }
    if (this.q.length) setTimeout(() => this.flush(), 0);
  }

  // Adds the orphaned stored events to this page's own. Looks when another page changed the
  // outbox, and once a minute for events gone stale.
  adopt() {
    const t = now();
    const raw = this.changedText();
    if (!raw && t - this.adopted < 60000) return;
    this.adopted = t;
    let n = 0;
    for (const it of this.stored(raw) || []) {
      if ((!it.o || t - it.t > STALE) && !has(this.q, it) && !this.sent.has(it.p.eid)) {
        it.o = this.me;
        n = this.q.push(it);
      }
    }
    if (n) this.save();
  }

  // Writes this page's events next to the other pages' ones.
  save() {
    try {
      // The other pages' events, parsed again only when another page wrote since.
      const raw = this.changedText();
      if (raw || !this.others) {
        this.others = (this.stored(raw) || []).filter((it) => it.o != this.me && !has(this.q, it));
      }
      const others = this.others.filter((it) => !has(this.q, it) && !this.sent.has(it.p.eid));
      localStorage.setItem(this.key, (this.written = JSON.stringify(others.concat(this.q))));
    } catch {
      // Storage full or disabled: the events still go out from memory.
    }
  }

  // Removes delivered events from this page's queue and remembers their ids (the last 1000).
  done(items) {
    for (const it of items) {
      this.sent.add(it.p.eid);
      if (this.sent.size > MAX_QUEUE) this.sent.delete(this.sent.values().next().value);
    }
    this.q = this.q.filter((it) => !has(items, it));
  }

  add(params) {
    this.q.push({ p: params, a: 0, o: this.me, t: now() });
    if (this.q.length > MAX_QUEUE) this.q.shift();
    // Stored and sent once per task, so that the events of one task cost one storage write and
    // go out in one request. The microtask runs before the page can go away.
    if (this.pending) return;
    this.pending = 1;
    queueMicrotask(() => {
      this.pending = 0;
      this.save();
      if (this.q.length >= this.buffer) this.flush();
    });
  }

  // The next request's events: up to maxPostBytes of POST body, or one event for GET.
  batch() {
    const out = [];
    let size = 88;
    for (const it of this.q) {
      size += JSON.stringify(it.p).length + 1;
      if (out.length && (this.get || size > this.maxBytes)) break;
      out.push(it);
    }
    return out;
  }

  // Sends the next batch unless a send is in flight; a pending back-off is skipped only when
  // forced (flushBuffer, the browser coming back online).
  flush(force) {
    if (this.busy || (this.timer && !force)) return;
    this.adopt();
    if (!this.q.length) return;
    clearTimeout(this.timer);
    this.timer = 0;
    const items = (this.busy = this.batch());
    this.send(items).then((status) => {
      this.busy = null;
      // Written off as delivered by unload: the browser reports such requests as failed to the
      // leaving page even when they arrive, so their answer is not trusted.
      if (this.gone && this.off == items) return;
      if (status >= 200 && status < 300) {
        this.fails = 0;
      } else if (!FINAL.includes(status)) {
        for (const it of items) {
          it.a++;
          it.t = now();
          // Failed after unload: back into the outbox, for whichever page comes next.
          if (!has(this.q, it)) this.q.unshift(it);
          if (this.gone) it.o = null;
        }
        this.fails++;
        this.save();
        const delay = Math.min(this.maxDelay, this.minDelay * 2 ** (this.fails - 1));
        this.timer = setTimeout(() => {
          this.timer = 0;
          this.flush();
        }, delay * (0.75 + Math.random() / 2));
        return;
      }
      this.done(items);
      this.save();
      this.flush();
    });
  }

  // One request; resolves to the HTTP status, or 0 when the request failed.
  send(items) {
    const stm = String(now());
    const opts = { credentials: 'include', keepalive: true, headers: this.headers };
    let url = this.url;
    if (this.get) {
      url += '/i?stm=' + stm;
      for (const k in items[0].p) url += '&' + k + '=' + encodeURIComponent(items[0].p[k]);
      if (!win.fetch) return this.image(url);
    } else {
      url += this.postPath;
      opts.method = 'POST';
      opts.body = this.body(items, stm);
      // keepalive lets a request outlive the page, but Chromium sends large keepalive bodies
      // far more slowly (1000 events in 40 KB batches: 16 s instead of 0.6 s), so only small
      // requests (a click just before leaving) use it; pagehide sends the rest with a beacon.
      opts.keepalive = opts.body.length < 16384;
      opts.headers = { ...this.headers, 'Content-Type': 'application/json; charset=UTF-8' };
    }
    this.keepalive = opts.keepalive;
    return fetch(url, opts).then(
      (r) => r.status,
      () => 0,
    );
  }

  body(items, stm) {
    return JSON.stringify({ schema: PAYLOAD, data: items.map((it) => ({ ...it.p, stm })) });
  }

  // GET without fetch: an image request (no custom headers, so not used in anonymous mode).
  image(url) {
    return new Promise((resolve) => {
      const img = new Image();
      img.onload = () => resolve(200);
      img.onerror = () => resolve(0);
      img.src = url;
    });
  }

  // Page hide: events never tried yet (buffered) leave with sendBeacon and are dropped from the
  // outbox when the browser accepted it. While sends are failing nothing is beaconed: a beacon's
  // fate is unknown, so those events stay for the next page load instead of being lost to the
  // same outage. Events in flight continue as keepalive requests; if their answer comes too late
  // for this page, the next one sends them again (same event ids).
  unload() {
    const busy = this.busy || [];
    const fresh = this.q.filter((it) => !it.a && !has(busy, it));
    if (!this.fails && fresh.length && !this.get && !this.anon && navigator.sendBeacon) {
      const blob = new Blob([this.body(fresh, String(now()))], { type: 'application/json' });
      if (navigator.sendBeacon(this.url + this.postPath, blob)) this.done(fresh);
    }
    // A keepalive request to a collector that has been answering outlives the page and almost
    // surely arrives (the usual case: a link click just before leaving): count it as delivered
    // rather than send it twice. During an outage it stays for the next page.
    if (!this.fails && this.keepalive) {
      this.off = busy;
      this.done(busy);
    }
    this.gone = 1;
    for (const it of this.q) it.o = null;
    this.save();
  }
}
