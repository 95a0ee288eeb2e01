// sp.js: furrow's browser tracker. It speaks the Snowplow Tracker Protocol (spec snowplow-compat.md
// §1, §1.6) and follows the API of Snowplow's browser tracker so a site can switch either way.
// Delivery is at-least-once: every event gets its event id (eid) when it is tracked and keeps it
// through every retry, so a copy that arrives twice is recognisable downstream.
import { Outbox } from './outbox.js';
import { uuid, now, on, b64url } from './util.js';
import { Ids } from './ids.js';
import { activity } from './activity.js';
import { linkClicks, forms } from './autotrack.js';

export const VERSION = 'furrow-js-0.1.0';
const SCHEMA = 'iglu:com.snowplowanalytics.snowplow/';
const win = window;
const doc = document;
const nav = navigator;
const trackers = {};
let tz;

function wxh(w, h) {
  return w + 'x' + h;
}

function sdj(schema, data) {
  return { schema: schema, data: data };
}

// One tracker: a namespace (tna) with its own identity cookies, outbox and settings.
class Tracker {
  constructor(name, endpoint, cfg) {
    cfg = cfg || {};
    this.name = name;
    this.cfg = cfg;
    this.anon = !!(cfg.anonymous || cfg.anonymousTracking);
    this.dnt =
      cfg.respectDoNotTrack && (nav.doNotTrack == '1' || nav.doNotTrack == 'yes' || win.doNotTrack == '1');
    this.globals = [];
    this.pageViewId = null;
    if (!/^https?:\/\//.test(endpoint)) endpoint = 'https://' + endpoint;
    endpoint = endpoint.replace(/\/+$/, '');
    this.ids = this.anon ? null : new Ids(cfg);
    this.outbox = new Outbox(name, endpoint, cfg, this.anon);
    this.b64 = cfg.encodeBase64 ?? this.outbox.get;
  }

  // Builds the event's parameter map (values are strings; empty values are left out as the
  // payload_data 1-0-4 schema and Snowplow's trackers do), then queues it for sending.
  track(params, context, withTitle, tstamp) {
    if (this.dnt) return;
    const cfg = this.cfg;
    const scr = win.screen;
    const de = doc.documentElement;
    const p = {
      e: params.e,
      eid: uuid(),
      tv: VERSION,
      tna: this.name,
      aid: cfg.appId,
      p: cfg.platform || 'web',
      cookie: nav.cookieEnabled ? '1' : '0',
      cs: doc.characterSet,
      lang: nav.language,
      res: wxh(scr.width, scr.height),
      cd: scr.colorDepth,
      tz: (tz = tz || Intl.DateTimeFormat().resolvedOptions().timeZone),
      vp: wxh(win.innerWidth, win.innerHeight),
      ds: wxh(de.scrollWidth, de.scrollHeight),
      url: this.url || location.href,
      refr: this.refr || doc.referrer,
    };
    if (withTitle) p.page = this.title || doc.title;
    if (tstamp) p.ttm = tstamp;
    else p.dtm = now();
    if (!this.anon) {
      p.uid = this.uid;
      Object.assign(p, this.ids.next(p.eid));
    }
    for (const k in params) if (params[k] != null) p[k] = params[k];
    let entities = (context || []).concat(this.globalEntities(params));
    if (cfg.contexts?.webPage !== false) {
      entities.push(sdj(SCHEMA + 'web_page/jsonschema/1-0-0', { id: this.webPageId() }));
    }
    if (entities.length) p.co = JSON.stringify(sdj(SCHEMA + 'contexts/jsonschema/1-0-0', entities));
    if (p.ue_pr) p.ue_pr = JSON.stringify(sdj(SCHEMA + 'unstruct_event/jsonschema/1-0-0', p.ue_pr));
    // Base64 (ue_px, cx) by default for GET, where it keeps URLs shorter; plain JSON for POST.
    if (this.b64) {
      if (p.co) p.cx = b64url(p.co);
      if (p.ue_pr) p.ue_px = b64url(p.ue_pr);
      p.co = p.ue_pr = null;
    }
    const out = {};
    for (const k in p) if (p[k] != null && p[k] !== '') out[k] = String(p[k]);
    this.outbox.add(out);
    return out.eid;
  }

  // Global contexts: plain self-describing JSONs, or functions of the event's parameters that
  // return one, an array of them, or nothing.
  globalEntities(params) {
    const out = [];
    for (const g of this.globals) {
      const v = typeof g == 'function' ? g(params) : g;
      if (v) out.push(...[].concat(v));
    }
    return out;
  }

  webPageId() {
    return (this.pageViewId = this.pageViewId || uuid());
  }

  trackPageView(ev) {
    ev = ev || {};
    this.pageViewId = uuid();
    const eid = this.track({ e: 'pv', page: ev.title }, ev.context, 1, ev.timestamp);
    this.viewed = [ev.context];
    if (this.act) this.act.pageView(ev.context);
    return eid;
  }

  trackStructEvent(ev) {
    return this.track(
      { e: 'se', se_ca: ev.category, se_ac: ev.action, se_la: ev.label, se_pr: ev.property, se_va: ev.value },
      ev.context,
      0,
      ev.timestamp,
    );
  }

  trackSelfDescribingEvent(ev) {
    return this.track({ e: 'ue', ue_pr: ev.event }, ev.context, 0, ev.timestamp);
  }

  enableActivityTracking(opts) {
    if (this.act) return;
    this.act = activity(this, opts || {});
    if (this.viewed) this.act.pageView(this.viewed[0]);
  }

  // Sends the scroll offsets (min/max since the previous ping) as a page ping.
  ping(ctx, o) {
    this.track({ e: 'pp', pp_mix: o[0], pp_max: o[1], pp_miy: o[2], pp_may: o[3] }, ctx, 1);
  }

  enableLinkClickTracking(opts) {
    linkClicks(this, opts || {});
  }

  enableFormTracking(opts) {
    forms(this, opts || {});
  }

  setUserId(id) {
    this.uid = id;
  }

  setCustomUrl(u) {
    this.url = u;
  }

  setReferrerUrl(u) {
    this.refr = u;
  }

  setDocumentTitle(t) {
    this.title = t;
  }

  addGlobalContexts(list) {
    this.globals.push(...list);
  }

  removeGlobalContexts(list) {
    this.globals = this.globals.filter((g) => !list.includes(g));
  }

  clearGlobalContexts() {
    this.globals = [];
  }

  getDomainUserId() {
    return this.ids && this.ids.duid();
  }

  flushBuffer() {
    this.outbox.flush(1);
  }
}

// newTracker(name, collector, config): the collector is a host ("c.example.com", https is
// assumed) or a full URL.
function newTracker(name, endpoint, cfg) {
  return (trackers[name] = new Tracker(name, endpoint, cfg));
}

// Calls a method on the named trackers ("trackPageView:sp1;sp2") or on all of them.
function dispatch(method, ...args) {
  if (method == 'newTracker') return newTracker(...args);
  const [fn, names] = method.split(':');
  let result;
  for (const n of names ? names.split(';') : Object.keys(trackers)) {
    const t = trackers[n];
    if (t && typeof t[fn] == 'function') result = t[fn](...args);
  }
  return result;
}

// The asynchronous snippet (docs/trackers-js.md) defines window.furrow as a stub that queues its
// calls in window.furrow.q until this script has loaded; they run now, in order.
const stub = win.furrow;
const api = (win.furrow = (...args) => dispatch(...args));
const methods =
  'trackPageView trackStructEvent trackSelfDescribingEvent enableActivityTracking enableLinkClickTracking ' +
  'enableFormTracking setUserId setCustomUrl setReferrerUrl setDocumentTitle addGlobalContexts ' +
  'removeGlobalContexts clearGlobalContexts getDomainUserId flushBuffer';
for (const m of methods.split(' ')) api[m] = (...args) => dispatch(m, ...args);
api.newTracker = newTracker;
api.version = VERSION;
for (const call of (stub && stub.q) || []) dispatch(...call);
on(win, 'pagehide', () => {
  for (const n in trackers) trackers[n].outbox.unload();
});
