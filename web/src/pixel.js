// The email pixel: the same tp1 URL and <img> tag as `furrow pixel` (src/assets/pixel.cpp,
// docs/pixel.md): /i with e, aid, p=web, tv=furrow-pixel-<version>, tna, uid, url, page and, for a
// structured event, se_ca, se_ac, se_la, se_pr, se_va, in that order; empty values left out; values
// percent-encoded except the unreserved characters A-Z a-z 0-9 - _ . ~ (so also ! ' ( ) *, which
// encodeURIComponent would keep). No event id: every open of the mail must count.
// Pure functions, no DOM: the dashboard shows the result as text only, and a node test compares
// it with the CLI's output.

export function encodeValue(s) {
  return encodeURIComponent(s).replace(
    /[!'()*]/g,
    (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase(),
  );
}

function htmlAttribute(s) {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

// r: {collector, appId, namespace = 'pixel', event: 'pv'|'se', pageTitle, pageUrl, category,
// action, label, property, value, userId}; version: furrow's version. Returns {url, imgTag} or
// {error}.
export function buildPixel(r, version) {
  const collector = String(r.collector || '');
  const m = /^(https?:\/\/)([A-Za-z0-9.:\[\]-]+)\/?$/.exec(collector);
  if (!m) {
    return { error: 'The collector must be scheme://host[:port] (http or https), without a path' };
  }
  if (!r.appId) return { error: 'The app id is required' };
  const structured = r.event === 'se';
  if (structured && (!r.category || !r.action)) {
    return { error: 'A structured event needs a category and an action' };
  }
  if (structured && r.value && !/^[+-]?(\d+\.?\d*|\.\d+)$/.test(r.value)) {
    return { error: 'The value must be a decimal number' };
  }
  const pairs = [
    ['e', structured ? 'se' : 'pv'],
    ['aid', r.appId],
    ['p', 'web'],
    ['tv', `furrow-pixel-${version}`],
    ['tna', r.namespace === undefined ? 'pixel' : r.namespace],
    ['uid', r.userId],
    ['url', r.pageUrl],
    ['page', r.pageTitle],
  ];
  if (structured) {
    pairs.push(['se_ca', r.category], ['se_ac', r.action], ['se_la', r.label],
               ['se_pr', r.property], ['se_va', r.value]);
  }
  const query = pairs
    .filter(([, v]) => v !== undefined && v !== null && v !== '')
    .map(([k, v]) => `${k}=${encodeValue(String(v))}`)
    .join('&');
  const url = `${m[1]}${m[2]}/i?${query}`;
  const imgTag = `<img src="${htmlAttribute(url)}" width="1" height="1" alt="" ` +
                 'style="border:0;width:1px;height:1px">';
  return { url, imgTag };
}
