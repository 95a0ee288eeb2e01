// Link-click and form tracking, as self-describing events with Snowplow's schemas
// (link_click 1-0-1, change_form 1-0-0, submit_form 1-0-0). Password values are never sent.
import { on } from './util.js';

const doc = document;
const S = 'iglu:com.snowplowanalytics.snowplow/';
const FIELD = /^(INPUT|TEXTAREA|SELECT)$/;

const classes = (el) => [...el.classList];

function send(tracker, schema, data, opts) {
  if (opts.filter && !opts.filter(data)) return;
  tracker.trackSelfDescribingEvent({ event: { schema: S + schema, data }, context: opts.context });
}

// Clicks (and middle clicks) on <a href> / <area href>, caught in the capture phase so that the
// page's own handlers cannot stop them. opts.trackContent adds the link's innerHTML.
export function linkClicks(tracker, opts) {
  const handler = (e) => {
    const a = e.target.closest && e.target.closest('a[href],area[href]');
    if (!a) return;
    const d = { targetUrl: a.href, elementClasses: classes(a) };
    if (a.id) d.elementId = a.id;
    if (a.target) d.elementTarget = a.target;
    if (opts.trackContent) d.elementContent = a.innerHTML;
    send(tracker, 'link_click/jsonschema/1-0-1', d, opts);
  };
  on(doc, 'click', handler, true);
  on(doc, 'auxclick', handler, true);
}

const value = (el) =>
  el.type == 'password' ? null : /^(checkbox|radio)$/.test(el.type) && !el.checked ? null : el.value;

function described(el, d) {
  d.nodeName = el.nodeName;
  if (el.nodeName == 'INPUT') d.type = el.type;
  return d;
}

const formId = (f) => (f && (f.id || f.getAttribute('name'))) || '';

// A change of a form field (change_form) and a form submission (submit_form with every named
// field except passwords).
export function forms(tracker, opts) {
  on(
    doc,
    'change',
    (e) => {
      const el = e.target;
      if (!FIELD.test(el.nodeName)) return;
      const d = { formId: formId(el.form), elementId: el.id || el.name || '' };
      described(el, d);
      d.elementClasses = classes(el);
      d.value = value(el);
      send(tracker, 'change_form/jsonschema/1-0-0', d, opts);
    },
    true,
  );
  on(
    doc,
    'submit',
    (e) => {
      const f = e.target;
      const elements = [];
      for (const el of f.elements) {
        if (FIELD.test(el.nodeName) && el.name && el.type != 'password') {
          elements.push(described(el, { name: el.name, value: value(el) }));
        }
      }
      send(tracker, 'submit_form/jsonschema/1-0-0', { formId: formId(f), formClasses: classes(f), elements }, opts);
    },
    true,
  );
}
