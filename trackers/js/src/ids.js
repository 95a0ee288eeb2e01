// First-party identity: the _sp_id.<hash> and _sp_ses.<hash> cookies with Snowplow's layout
// (spec §1.6). _sp_id holds ten dot-separated fields:
//   0 domain user id . 1 created (s) . 2 visit count . 3 now (s) . 4 last visit (s) .
//   5 session id . 6 previous session id . 7 first event id . 8 first event time (ms) . 9 event index
// _sp_ses ("*") lives for the session timeout and is refreshed by every event, so its absence
// means the previous session expired and the next event starts a new one.
import { uuid, now, hash4 } from './util.js';

const doc = document;
// Cookie state read by the first event of the current task, by _sp_id cookie name.
const pending = {};

export class Ids {
  constructor(cfg) {
    const base = cfg.cookieName || '_sp_';
    const sfx = hash4((cfg.cookieDomain || location.hostname) + '/');
    this.idName = base + 'id.' + sfx;
    this.sesName = base + 'ses.' + sfx;
    this.timeout = cfg.sessionCookieTimeout ?? 1800;
    this.lifetime = cfg.cookieLifetime ?? 63072000;
    this.attrs =
      '; Path=/' +
      (cfg.cookieDomain ? '; Domain=' + cfg.cookieDomain : '') +
      '; SameSite=' +
      (cfg.cookieSameSite || 'Lax') +
      ((cfg.cookieSecure ?? location.protocol == 'https:') ? '; Secure' : '');
    // Used when the browser refuses cookies: identity then lasts as long as the page.
    this.mem = {};
  }

  get(name) {
    const m = doc.cookie.match('(?:^|; )' + name.replace(/\./g, '\\.') + '=([^;]*)');
    if (m) return m[1];
    const v = this.mem[name];
    return v && v[1] > now() ? v[0] : '';
  }

  set(name, value, maxAge) {
    doc.cookie = name + '=' + value + '; Max-Age=' + maxAge + this.attrs;
    this.mem[name] = [value, now() + maxAge * 1000];
  }

  fields() {
    const c = this.get(this.idName).split('.');
    return c.length == 10 ? c : null;
  }

  duid() {
    const st = pending[this.idName];
    const c = st ? st.c : this.fields();
    return c && c[0];
  }

  // Advances the identity for one event and returns its parameters. The cookies are read by the
  // first event of a task and written once at its end (a microtask): in Chromium each read after
  // a write is a round trip to the cookie store, which made bursts of events slow.
  // Trackers using the same cookies share that state within the task.
  next(eid) {
    const t = now();
    const s = Math.floor(t / 1000);
    let st = pending[this.idName];
    if (!st) {
      st = pending[this.idName] = { c: this.fields() || [uuid(), s, 0, s, '', '', '', '', '', 0] };
      st.ses = this.get(this.sesName);
      queueMicrotask(() => {
        this.set(this.idName, st.c.join('.'), this.lifetime);
        this.set(this.sesName, '*', this.timeout);
        delete pending[this.idName];
      });
    }
    const c = st.c;
    if (!st.ses) {
      if (+c[2] > 0) c[4] = c[3];
      c[2] = +c[2] + 1;
      c[6] = c[5];
      c[5] = uuid();
      c[7] = c[8] = '';
      c[9] = 0;
      st.ses = 1;
    }
    c[3] = s;
    c[9] = +c[9] + 1;
    if (!c[7]) {
      c[7] = eid;
      c[8] = t;
    }
    return { duid: c[0], sid: c[5], vid: c[2] };
  }
}
