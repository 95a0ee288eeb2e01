// Enriched TSV (131 columns) → one JSON object per line, using Snowplow's official analytics SDK,
// so the tracker integration tests check fields by name: node enriched_to_json.mjs FILE.tsv
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const source = process.env.FURROW_SOURCE_DIR ?? path.resolve(import.meta.dirname ?? '.', '../../..');
const require = createRequire(path.join(source, 'package.json'));
const { transform } = require('snowplow-analytics-sdk');

const lines = fs.readFileSync(process.argv[2], 'utf8').split('\n').filter((l) => l.length > 0);
for (const line of lines) process.stdout.write(JSON.stringify(transform(line)) + '\n');
