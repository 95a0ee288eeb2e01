// Every good line `furrow enrich` writes must be read by Snowplow's official JavaScript analytics
// SDK (npm snowplow-analytics-sdk) into JSON with the right field names and types. Inputs: the
// traffic of `furrow gen` (all event types, contexts, self-describing events, malformed payloads)
// and the requests the official trackers sent ($FURROW_SHARED/captures).
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';

const source = process.env.FURROW_SOURCE_DIR ?? '.';
const bin = process.env.FURROW_BIN ?? path.join(source, 'build/release/furrow');
const shared = process.env.FURROW_SHARED ?? path.join(source, '../shared');
const require = createRequire(path.join(source, 'package.json'));
const { transform } = require('snowplow-analytics-sdk');

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'furrow-sdk-'));

// ---- inputs ----

function enrich(inputFile) {
  const good = path.join(tmp, 'good.tsv');
  const bad = path.join(tmp, 'bad.json');
  const r = spawnSync(bin, ['enrich', '--input', inputFile, '--output', good, '--bad', bad],
                      { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const lines = fs.readFileSync(good, 'utf8').split('\n').filter((l) => l.length > 0);
  const badLines = fs.readFileSync(bad, 'utf8').split('\n').filter((l) => l.length > 0);
  return { lines, badLines, stderr: r.stderr };
}

// A Thrift TBinaryProtocol CollectorPayload (spec 2.9), fields in id order, schema last.
function thrift(p) {
  const parts = [];
  const str = (id, v) => {
    if (v === undefined || v === null) return;
    const b = Buffer.from(v, 'utf8');
    const h = Buffer.alloc(7);
    h.writeUInt8(11, 0); h.writeInt16BE(id, 1); h.writeInt32BE(b.length, 3);
    parts.push(h, b);
  };
  str(100, p.ip);
  const ts = Buffer.alloc(11);
  ts.writeUInt8(10, 0); ts.writeInt16BE(200, 1); ts.writeBigInt64BE(BigInt(p.timestamp), 3);
  parts.push(ts);
  str(210, 'UTF-8');
  str(220, 'ssc-3.4.0-stdout');
  str(300, p.useragent);
  str(310, p.referer);
  str(320, p.path);
  str(330, p.querystring);
  str(340, p.body);
  const lh = Buffer.alloc(8);
  lh.writeUInt8(15, 0); lh.writeInt16BE(350, 1); lh.writeUInt8(11, 3); lh.writeInt32BE(p.headers.length, 4);
  parts.push(lh);
  for (const h of p.headers) {
    const b = Buffer.from(h, 'utf8');
    const len = Buffer.alloc(4);
    len.writeInt32BE(b.length, 0);
    parts.push(len, b);
  }
  str(360, p.contentType);
  str(400, p.hostname);
  str(410, p.nuid);
  str(31337, 'iglu:com.snowplowanalytics.snowplow/CollectorPayload/thrift/1-0-0');
  parts.push(Buffer.from([0]));
  return Buffer.concat(parts);
}

// The recorded requests as the collector stores them (spec 2.4).
function capturesInput() {
  const dir = path.join(shared, 'captures', 'requests');
  const out = [];
  let events = 0;
  for (const f of fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort()) {
    for (const line of fs.readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      if (!line) continue;
      const r = JSON.parse(line);
      if (r.method === 'OPTIONS') continue;
      const anonymous = r.collector_view.sp_anonymous_header != null;
      const headers = [];
      let contentType, useragent, referer, hostname;
      for (const [name, value] of r.headers) {
        const n = name.toLowerCase();
        if (n === 'content-type') { contentType = value; continue; }
        if (anonymous && ['x-forwarded-for', 'x-real-ip', 'cookie'].includes(n)) continue;
        if (n === 'user-agent') useragent = value;
        if (n === 'referer') referer = value;
        if (n === 'host') hostname = value.replace(/:\d+$/, '');
        headers.push(`${name}: ${value}`);
      }
      if (contentType) headers.push(contentType);
      out.push(thrift({
        ip: anonymous ? 'unknown' : r.remote.replace(/:\d+$/, ''), timestamp: r.time_ms, useragent,
        referer, path: r.path, querystring: r.query || undefined, body: r.body || undefined, headers,
        contentType: contentType?.toLowerCase(), hostname, nuid: r.collector_view.network_userid,
      }).toString('base64'));
      events += r.method === 'GET' ? 1 : JSON.parse(r.body).data.length;
    }
  }
  const file = path.join(tmp, 'captures.b64');
  fs.writeFileSync(file, out.join('\n') + '\n');
  return { file, events };
}

// ---- the SDK's view of each line ----

const NAMES = [
  'app_id', 'platform', 'etl_tstamp', 'collector_tstamp', 'dvce_created_tstamp', 'event', 'event_id',
  'txn_id', 'name_tracker', 'v_tracker', 'v_collector', 'v_etl', 'user_id', 'user_ipaddress',
  'user_fingerprint', 'domain_userid', 'domain_sessionidx', 'network_userid', 'geo_country',
  'geo_region', 'geo_city', 'geo_zipcode', 'geo_latitude', 'geo_longitude', 'geo_region_name',
  'ip_isp', 'ip_organization', 'ip_domain', 'ip_netspeed', 'page_url', 'page_title', 'page_referrer',
  'page_urlscheme', 'page_urlhost', 'page_urlport', 'page_urlpath', 'page_urlquery',
  'page_urlfragment', 'refr_urlscheme', 'refr_urlhost', 'refr_urlport', 'refr_urlpath',
  'refr_urlquery', 'refr_urlfragment', 'refr_medium', 'refr_source', 'refr_term', 'mkt_medium',
  'mkt_source', 'mkt_term', 'mkt_content', 'mkt_campaign', 'contexts', 'se_category', 'se_action',
  'se_label', 'se_property', 'se_value', 'unstruct_event', 'tr_orderid', 'tr_affiliation',
  'tr_total', 'tr_tax', 'tr_shipping', 'tr_city', 'tr_state', 'tr_country', 'ti_orderid', 'ti_sku',
  'ti_name', 'ti_category', 'ti_price', 'ti_quantity', 'pp_xoffset_min', 'pp_xoffset_max',
  'pp_yoffset_min', 'pp_yoffset_max', 'useragent', 'br_name', 'br_family', 'br_version', 'br_type',
  'br_renderengine', 'br_lang', 'br_features_pdf', 'br_features_flash', 'br_features_java',
  'br_features_director', 'br_features_quicktime', 'br_features_realplayer',
  'br_features_windowsmedia', 'br_features_gears', 'br_features_silverlight', 'br_cookies',
  'br_colordepth', 'br_viewwidth', 'br_viewheight', 'os_name', 'os_family', 'os_manufacturer',
  'os_timezone', 'dvce_type', 'dvce_ismobile', 'dvce_screenwidth', 'dvce_screenheight',
  'doc_charset', 'doc_width', 'doc_height', 'tr_currency', 'tr_total_base', 'tr_tax_base',
  'tr_shipping_base', 'ti_currency', 'ti_price_base', 'base_currency', 'geo_timezone',
  'mkt_clickid', 'mkt_network', 'etl_tags', 'dvce_sent_tstamp', 'refr_domain_userid',
  'refr_device_tstamp', 'derived_contexts', 'domain_sessionid', 'derived_tstamp', 'event_vendor',
  'event_name', 'event_format', 'event_version', 'event_fingerprint', 'true_tstamp',
];
assert.equal(NAMES.length, 131);
const TIMESTAMPS = new Set(['etl_tstamp', 'collector_tstamp', 'dvce_created_tstamp',
  'dvce_sent_tstamp', 'refr_device_tstamp', 'derived_tstamp', 'true_tstamp']);
const INTEGERS = new Set(['txn_id', 'domain_sessionidx', 'page_urlport', 'refr_urlport',
  'ti_quantity', 'pp_xoffset_min', 'pp_xoffset_max', 'pp_yoffset_min', 'pp_yoffset_max',
  'br_viewwidth', 'br_viewheight', 'dvce_screenwidth', 'dvce_screenheight', 'doc_width',
  'doc_height']);
const DOUBLES = new Set(['geo_latitude', 'geo_longitude', 'tr_total', 'tr_tax', 'tr_shipping',
  'ti_price', 'tr_total_base', 'tr_tax_base', 'tr_shipping_base', 'ti_price_base']);
const BOOLEANS = new Set(['br_features_pdf', 'br_features_flash', 'br_features_java',
  'br_features_director', 'br_features_quicktime', 'br_features_realplayer',
  'br_features_windowsmedia', 'br_features_gears', 'br_features_silverlight', 'br_cookies',
  'dvce_ismobile']);
const JSONS = new Set(['contexts', 'derived_contexts', 'unstruct_event']);
const SHRED = /^(contexts|unstruct_event)_[a-z0-9_]+_\d+$/;

const stats = { lines: 0, types: new Set(), shredded: new Set() };

function check(line, where) {
  const fields = line.split('\t');
  assert.equal(fields.length, 131, `${where}: ${fields.length} fields`);
  let event;
  try {
    event = transform(line);
  } catch (e) {
    assert.fail(`${where}: the SDK rejected the line: ${e.message}\n${line.slice(0, 500)}`);
  }
  // Required by every SDK (spec 3.3).
  for (const k of ['collector_tstamp', 'event_id', 'v_collector', 'v_etl']) {
    assert.ok(event[k], `${where}: ${k} missing`);
  }
  assert.match(event.event_id, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
  NAMES.forEach((name, i) => {
    const raw = fields[i];
    if (JSONS.has(name)) {
      assert.equal(name in event, false, `${where}: ${name} must be shredded`);
      return;
    }
    if (raw === '') {
      assert.equal(name in event, false, `${where}: empty ${name} must be absent`);
      return;
    }
    const v = event[name];
    if (TIMESTAMPS.has(name)) {
      assert.match(v, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/, `${where}: ${name}=${v}`);
      assert.ok(!Number.isNaN(Date.parse(v)), `${where}: ${name}=${v}`);
    } else if (INTEGERS.has(name)) {
      assert.ok(Number.isInteger(v), `${where}: ${name}=${v}`);
      assert.equal(String(v), raw, `${where}: ${name} does not round-trip`);
    } else if (DOUBLES.has(name)) {
      assert.equal(typeof v, 'number', `${where}: ${name}`);
      assert.ok(Number.isFinite(v), `${where}: ${name}=${raw}`);
      assert.equal(v, Number(raw), `${where}: ${name}=${raw}`);
    } else if (BOOLEANS.has(name)) {
      assert.equal(typeof v, 'boolean', `${where}: ${name}=${raw}`);
    } else {
      assert.equal(v, raw, `${where}: ${name}`);
    }
  });
  // Entities and self-describing events become contexts_<vendor>_<name>_<model> keys.
  for (const [name, i] of [['contexts', 52], ['derived_contexts', 122], ['unstruct_event', 58]]) {
    if (fields[i] === '') continue;
    const doc = JSON.parse(fields[i]);
    const inner = name === 'unstruct_event' ? [doc.data] : doc.data;
    assert.ok(inner.length > 0, `${where}: empty ${name} must be null`);
  }
  for (const k of Object.keys(event)) {
    if (NAMES.includes(k) || k === 'geo_location') continue;
    assert.match(k, SHRED, `${where}: unexpected key ${k}`);
    if (k.startsWith('contexts_')) assert.ok(Array.isArray(event[k]), `${where}: ${k}`);
    stats.shredded.add(k);
  }
  stats.types.add(event.event);
  stats.lines += 1;
}

// ---- run ----

try {
  // 1. Generated traffic, including malformed payloads (their bad rows are not the SDK's input).
  const genFile = path.join(tmp, 'gen.b64');
  execFileSync(bin, ['gen', '--count', '3000', '--seed', '21', '--malformed-share', '0.05',
                     '--output', genFile, '--quiet']);
  const gen = enrich(genFile);
  assert.ok(gen.lines.length > 2500, `only ${gen.lines.length} good lines`);
  assert.equal(gen.lines.length + gen.badLines.length, 3000, gen.stderr);
  gen.lines.forEach((l, i) => check(l, `gen line ${i + 1}`));

  // 2. What the official trackers sent.
  const cap = capturesInput();
  const captured = enrich(cap.file);
  assert.equal(captured.badLines.length, 0, captured.badLines[0]);
  assert.equal(captured.lines.length, cap.events, captured.stderr);
  captured.lines.forEach((l, i) => check(l, `captures line ${i + 1}`));

  for (const t of ['page_view', 'page_ping', 'struct', 'unstruct', 'transaction',
                   'transaction_item']) {
    assert.ok(stats.types.has(t), `no ${t} event was checked`);
  }
  for (const k of ['contexts_com_snowplowanalytics_snowplow_web_page_1',
                   'unstruct_event_com_snowplowanalytics_snowplow_link_click_1']) {
    assert.ok(stats.shredded.has(k), `no ${k} was checked`);
  }
  console.log(`ok: ${stats.lines} enriched lines read by snowplow-analytics-sdk ` +
              `(${[...stats.shredded].length} entity types)`);
} finally {
  fs.rmSync(tmp, { recursive: true, force: true });
}
