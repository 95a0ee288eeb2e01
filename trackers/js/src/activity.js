// Activity tracking: after a page view, the first check comes after minimumVisitLength seconds and
// then one every heartbeatDelay seconds; a check sends a page ping only when the visitor did
// something (scroll, mouse, keyboard, touch) since the previous check. A ping carries the minimum
// and maximum horizontal and vertical scroll offsets seen since the previous ping (pp_mix, pp_max,
// pp_miy, pp_may) and the page view's own context.
import { on } from './util.js';

const win = window;

export function activity(tracker, opts) {
  const first = (opts.minimumVisitLength ?? 5) * 1000;
  // At least a second between checks, whatever the page asks (0 would be a busy loop).
  const every = Math.max(opts.heartbeatDelay ?? 10, 1) * 1000;
  let active = false;
  let off = [0, 0, 0, 0];
  let timer = 0;
  let ctx;
  const reset = () => {
    const x = Math.round(win.scrollX);
    const y = Math.round(win.scrollY);
    off = [x, x, y, y];
  };
  const scrolled = () => {
    const x = Math.round(win.scrollX);
    const y = Math.round(win.scrollY);
    off = [Math.min(off[0], x), Math.max(off[1], x), Math.min(off[2], y), Math.max(off[3], y)];
    active = true;
  };
  const check = () => {
    if (!active) return;
    active = false;
    tracker.ping(ctx, off);
    reset();
  };
  for (const t of 'click mousedown mousemove keydown touchstart wheel'.split(' ')) {
    on(win, t, () => (active = true), { passive: true });
  }
  on(win, 'scroll', scrolled, { passive: true });
  return {
    // Restarts the timers for a new page view whose context the pings repeat.
    pageView(context) {
      clearTimeout(timer);
      clearInterval(timer);
      ctx = context;
      active = false;
      reset();
      timer = setTimeout(() => {
        check();
        timer = setInterval(check, every);
      }, first);
    },
  };
}
