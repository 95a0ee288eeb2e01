// The full sp.js build must stay under its gzip budget (issue #8: 6 KB gzipped).
//   node size_test.mjs <built sp.js>
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { BUDGET_GZIP_BYTES, measure } from '../build.mjs';

const bundle = process.argv[2];
const bytes = fs.readFileSync(bundle);
const m = measure(bytes);
// A real bundle, not an empty file: it defines the public API.
assert.ok(bytes.includes('trackPageView') && bytes.includes('newTracker'), 'bundle lacks the API');
assert.ok(m.gzip <= BUDGET_GZIP_BYTES, `sp.js is ${m.gzip} bytes gzipped, budget ${BUDGET_GZIP_BYTES}`);
console.log(`sp.js ${m.size} bytes, ${m.gzip} gzipped, budget ${BUDGET_GZIP_BYTES}`);
