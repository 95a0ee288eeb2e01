// Small helpers shared by the tracker's parts.

export const now = () => Date.now();

export const on = (target, type, fn, capture) => target.addEventListener(type, fn, capture);

// A random (version 4) UUID. crypto.randomUUID exists only in secure contexts; getRandomValues
// exists everywhere, so plain-http sites get ids too.
export function uuid() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  let h = '';
  for (const x of b) h += (x + 256).toString(16).slice(1);
  return h.replace(/(.{8})(.{4})(.{4})(.{4})/, '$1-$2-$3-$4-');
}

// Base64 of the UTF-8 bytes, URL-safe alphabet, no padding: what Snowplow's trackers send in
// ue_px and cx (spec §1.1) and what every Snowplow enrich accepts.
export function b64url(s) {
  let bin = '';
  for (const x of new TextEncoder().encode(s)) bin += String.fromCharCode(x);
  return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

// 4 hex digits naming the cookies of one domain (FNV-1a; Snowplow uses the first 4 hex digits of
// a SHA-1 of the same input, see docs/trackers-js.md).
export function hash4(s) {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return (h >>> 0).toString(16).padStart(8, '0').slice(0, 4);
}
