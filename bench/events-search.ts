/**
 * `npx tsx bench/events-search.ts`: the events page's queries (GET /api/v1/events
 * runs exactly these, through `store.queryEvents`) on a big log: 10 million events
 * over the 400 days of default retention (25,000 a day, 50 environments), in a
 * SQLite store, or a PostgreSQL schema with `--db postgres://…`. Each query is
 * timed 3 times; the median is printed, with SQLite's query plan of the search.
 *
 *   npx tsx bench/events-search.ts [--events 10000000] [--db postgres://…]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import Database from 'better-sqlite3';
import pg from 'pg';
import type { EventFilter, EventOrder } from '../src/store/queries/events.js';
import { openStore } from '../src/store/store.js';

const { values } = parseArgs({
  options: {
    events: { type: 'string', default: '10000000' },
    db: { type: 'string' },
  },
});
const count = Number(values.events);
const DAY = 86_400_000;
const NOW = Date.UTC(2026, 5, 1);
/** The density of 10 million events over 400 days, whatever `--events`. */
const STEP_MS = Math.floor((400 * DAY) / 10_000_000);
const FIRST = NOW - count * STEP_MS;

const columns = (i: string, concat: (...parts: string[]) => string) => `
  ${FIRST} + ${i} * ${STEP_MS},
  case ${i} % 3 when 0 then 'scheduler' when 1 then 'api:ci' else 'lightsout' end,
  ${concat("'env-'", `(${i} % 50)`)},
  case when ${i} % 4 = 0 then null else ${concat("'aws:ec2:eu-west-3:123456789012:i-'", `(${i} % 10000)`)} end,
  case ${i} % 5 when 0 then 'run.created' when 1 then 'run.finished' when 2 then 'notice.sent'
               when 3 then 'hold.created' else 'resource.output' end,
  ${concat("'run-'", `(${i} / 20)`)},
  ${concat(`'{"direction":"stop","attempt":'`, `(${i} % 3)`, `',"output":"vm build-'`, `(${i} % 997)`, `' stopped"}'`)}`;

let url: string;
let cleanup: () => Promise<void>;
const generated = Date.now();
if (values.db === undefined) {
  const dir = mkdtempSync(join(tmpdir(), 'lightsout-bench-search-'));
  const file = join(dir, 'lightsout.db');
  url = `sqlite:${file}`;
  await (await openStore(url)).close();
  const sqlite = new Database(file);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = OFF');
  const insert = sqlite.prepare(`
    with recursive n(i) as (select cast(? as integer) union all select i + 1 from n where i < ?)
    insert into events (at, actor, environment, resource, kind, run_id, payload)
    select ${columns('i', (...p) => p.join(' || '))} from n`);
  for (let start = 0; start < count; start += 1_000_000)
    sqlite.transaction(() => insert.run(start, Math.min(count, start + 1_000_000) - 1))();
  process.stderr.write(
    `${JSON.stringify(sqlite.prepare('select count(*) as n from events').get())}\n`,
  );
  sqlite.close();
  cleanup = () => {
    rmSync(dir, { recursive: true, force: true });
    return Promise.resolve();
  };
} else {
  const schema = `bench_search_${Date.now()}`;
  url = `${values.db}${values.db.includes('?') ? '&' : '?'}schema=${schema}`;
  await (await openStore(url)).close();
  const client = new pg.Client({ connectionString: values.db });
  await client.connect();
  for (let start = 0; start < count; start += 1_000_000)
    await client.query(`
      insert into ${schema}.events (at, actor, environment, resource, kind, run_id, payload)
      select ${columns('i', (...p) => `concat(${p.join(', ')})`)}
        from generate_series(${start}::bigint, ${Math.min(count, start + 1_000_000) - 1}::bigint) as i`);
  await client.query(`analyze ${schema}.events`);
  cleanup = async () => {
    await client.query(`drop schema ${schema} cascade`);
    await client.end();
  };
}
process.stderr.write(
  `generated ${count} events in ${((Date.now() - generated) / 1000).toFixed(1)} s\n`,
);

const store = await openStore(url);
const all = Array.from({ length: 50 }, (_, i) => `env-${i}`);
const team = all.slice(0, 10);
const cases: [string, EventFilter, EventOrder][] = [
  ['newest 50, every environment (an admin)', { environments: all }, 'desc'],
  ["newest 50, a team's 10 environments", { environments: team }, 'desc'],
  ['newest 50 of one environment', { environment: 'env-7' }, 'desc'],
  [
    'newest 50, kind run.* (a family)',
    { environments: all, kinds: { exact: [], families: ['run'] } },
    'desc',
  ],
  ['newest 50, kind run.created (exact)', { environments: all, kind: 'run.created' }, 'desc'],
  [
    'newest 50, kind token.created (none recorded)',
    { environments: all, kind: 'token.created' },
    'desc',
  ],
  [
    'search "build-42 " over 7 days (few matches)',
    { environments: all, from: NOW - 7 * DAY, text: 'build-42 ' },
    'desc',
  ],
  [
    'search with no match over 7 days (reads the window)',
    { environments: all, from: NOW - 7 * DAY, text: 'no such text' },
    'desc',
  ],
  [
    'search with no match over 31 days (the most allowed)',
    { environments: all, from: NOW - 31 * DAY, text: 'no such text' },
    'desc',
  ],
  [
    "search with no match over 7 days, a team's",
    { environments: team, from: NOW - 7 * DAY, text: 'no such text' },
    'desc',
  ],
];
const rows: string[] = [];
for (const [name, filter, order] of cases) {
  const times: number[] = [];
  let found = 0;
  for (let run = 0; run < 3; run++) {
    const started = performance.now();
    found = (await store.queryEvents(filter, { limit: 50, order })).events.length;
    times.push(performance.now() - started);
  }
  const median = times.sort((a, b) => a - b)[1]!;
  rows.push(`| ${name} | ${found} | ${median.toFixed(0)} ms |`);
  process.stderr.write(`${name}: ${median.toFixed(0)} ms (${found})\n`);
}
// An export reads the whole filter a page of 500 at a time: its pace on 200,000 events.
{
  const started = performance.now();
  let read = 0;
  let after: string | undefined;
  while (read < 200_000) {
    const page = await store.queryEvents(
      { environments: all },
      { after, limit: 500, order: 'desc' },
    );
    read += page.events.length;
    after = page.next;
    if (after === undefined) break;
  }
  const seconds = (performance.now() - started) / 1000;
  rows.push(
    `| export pace: ${read} events in pages of 500, newest first | ${read} | ${Math.round(read / seconds)} events/s |`,
  );
}
await store.close();
await cleanup();
process.stdout.write(
  [
    `${count.toLocaleString('en')} events on ${values.db === undefined ? 'SQLite' : 'PostgreSQL'} (25,000 a day), median of 3:`,
    '',
    '| query | events answered | time |',
    '| --- | --- | --- |',
    ...rows,
    '',
  ].join('\n'),
);
