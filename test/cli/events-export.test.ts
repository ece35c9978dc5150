import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetReadObjects } from 'hyparquet';
import { describe, expect, it } from 'vitest';
import { exportEvents, markKey } from '../../src/export/export.js';
import type { EventInput } from '../../src/store/queries/events.js';
import type { EventRow } from '../../src/store/schema.js';
import { openStore } from '../../src/store/store.js';
import { at } from '../helpers.js';
import { DATABASES } from '../store/databases.js';
import { cli, configFile } from './run.js';

const CONFIG = configFile(`
timezone: Europe/Paris
schedules:
  office-hours:
    periods: [{ days: mon-fri, start: "08:00", stop: "18:00" }]
environments:
  dev:
    schedule: office-hours
    select: { provider: sandbox, tags: { env: dev } }
sandbox:
  resources:
    - { kind: ec2, name: dev-web, tags: { env: dev } }
`);

const NOW = at('2026-06-02T12:00Z');
const run = (args: string[]) => cli(args, NOW);

/** Events on both sides of midnight UTC, one with no environment, resource or run. */
const EVENTS: EventInput[] = [
  {
    at: at('2026-05-31T22:00Z'),
    actor: 'engine',
    kind: 'run.started',
    environment: 'dev',
    runId: 'r1',
    payload: { direction: 'stop' },
  },
  {
    at: at('2026-05-31T23:59:59.999Z'),
    actor: 'engine',
    kind: 'resource.state',
    environment: 'dev',
    resource: 'sandbox:ec2:dev-web',
    runId: 'r1',
    payload: { state: 'off', quote: 'it\'s "off"' },
  },
  {
    at: at('2026-06-01T00:00Z'),
    actor: 'cli:ana',
    kind: 'hold.created',
    environment: 'dev',
    payload: {},
  },
  {
    at: at('2026-06-01T07:30Z'),
    actor: 'api',
    kind: 'token.created',
    payload: { name: 'ci', é: 'ü' },
  },
];

const LATER: EventInput[] = [
  {
    at: at('2026-06-01T09:00Z'),
    actor: 'engine',
    kind: 'run.started',
    environment: 'dev',
    runId: 'r2',
    payload: { direction: 'start' },
  },
  {
    at: at('2026-06-02T08:00Z'),
    actor: 'engine',
    kind: 'run.finished',
    environment: 'dev',
    runId: 'r2',
    payload: {},
  },
];

/** Every file under `dir`, relative to it, sorted. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();
}

/** A row as the export should have written it, from the store's own row. */
function expected(row: EventRow) {
  return {
    id: row.id,
    at: new Date(row.at).toISOString(),
    actor: row.actor,
    kind: row.kind,
    environment: row.environment,
    resource: row.resource,
    run_id: row.run_id,
    payload: row.payload,
  };
}

/** The Parquet files under `dir`, read by hyparquet (not the writer's own reader), in id order. */
async function readParquet(dir: string) {
  const rows = [];
  for (const file of filesUnder(dir).filter((f) => f.endsWith('.parquet'))) {
    const bytes = readFileSync(join(dir, file));
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    for (const row of await parquetReadObjects({ file: buffer }))
      rows.push({
        file,
        id: Number(row.id),
        at: (row.at as Date).toISOString(),
        actor: row.actor as string,
        kind: row.kind as string,
        environment: (row.environment ?? null) as string | null,
        resource: (row.resource ?? null) as string | null,
        run_id: (row.run_id ?? null) as string | null,
        payload: row.payload as string,
      });
  }
  return rows.sort((a, b) => a.id - b.id);
}

/** The Parquet rows in the order each file holds them. */
async function readUnsorted(dir: string) {
  const rows: { file: string; id: number }[] = [];
  for (const file of filesUnder(dir).filter((f) => f.endsWith('.parquet'))) {
    const bytes = readFileSync(join(dir, file));
    const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    for (const row of await parquetReadObjects({ file: buffer, columns: ['id'] }))
      rows.push({ file, id: Number(row.id) });
  }
  return rows;
}

function readNdjsonInFileOrder(dir: string) {
  return filesUnder(dir)
    .filter((f) => f.endsWith('.ndjson'))
    .flatMap((file) =>
      readFileSync(join(dir, file), 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => ({ file, id: (JSON.parse(line) as { id: number }).id })),
    );
}

function readNdjson(dir: string) {
  return filesUnder(dir)
    .filter((f) => f.endsWith('.ndjson'))
    .flatMap((file) =>
      readFileSync(join(dir, file), 'utf8')
        .trimEnd()
        .split('\n')
        .map((line) => ({ file, ...(JSON.parse(line) as ReturnType<typeof expected>) })),
    )
    .sort((a, b) => a.id - b.id);
}

/** A row read back, without the file it came from. */
function withoutFile<T extends { file: string }>(row: T): Omit<T, 'file'> {
  const copy: Partial<T> = { ...row };
  delete copy.file;
  return copy as Omit<T, 'file'>;
}

const day = (file: string) => file.split('/').slice(0, 3).join('/');

describe.each(DATABASES)('events export on $name', (database) => {
  async function storeWith(events: readonly EventInput[]) {
    const url = database.url();
    const store = await openStore(url);
    await store.appendEvents(events);
    await store.close();
    return { url, args: ['--config', CONFIG, '--db', url] };
  }

  async function append(url: string, events: readonly EventInput[]) {
    const store = await openStore(url);
    await store.appendEvents(events);
    await store.close();
  }

  async function storedRows(url: string) {
    const store = await openStore(url);
    try {
      return await store.readEventRows(0, 1000);
    } finally {
      await store.close();
    }
  }

  async function mark(url: string, out: string, format: 'ndjson' | 'parquet') {
    const store = await openStore(url);
    try {
      return await store.readValue(markKey(out, format));
    } finally {
      await store.close();
    }
  }

  const outDir = () => join(mkdtempSync(join(tmpdir(), 'lightsout-export-')), 'out');

  it('writes Parquet that an independent reader reads back row for row, one folder per UTC day', async () => {
    const { url, args } = await storeWith(EVENTS);
    const out = outDir();
    const result = await run(['events', 'export', '--format', 'parquet', '--out', out, ...args]);
    expect(result.code).toBe(0);
    expect(result.out).toBe(`exported 4 events 1-4 to ${out} in 2 parquet files`);
    // Progress and the totals go to stderr, so stdout stays the summary alone.
    expect(result.err).toMatch(/^done: 4 events in 2 files, \d+\.\d s, \d+ events\/s$/);

    const rows = await readParquet(out);
    expect(rows.map(withoutFile)).toEqual((await storedRows(url)).map(expected));
    // 23:59:59.999 is still the 31st; midnight is the 1st.
    expect(rows.map((r) => day(r.file))).toEqual([
      'year=2026/month=05/day=31',
      'year=2026/month=05/day=31',
      'year=2026/month=06/day=01',
      'year=2026/month=06/day=01',
    ]);
    expect(filesUnder(out)).toEqual([
      'year=2026/month=05/day=31/part-000000000001-000000000002.parquet',
      'year=2026/month=06/day=01/part-000000000003-000000000004.parquet',
    ]);
    expect(await mark(url, out, 'parquet')).toBe(4);
  });

  it('a second export writes only the new events, in new files, and leaves the earlier ones as they were', async () => {
    const { url, args } = await storeWith(EVENTS);
    const out = outDir();
    expect(
      (await run(['events', 'export', '--format', 'parquet', '--out', out, ...args])).code,
    ).toBe(0);
    const first = filesUnder(out);
    const before = new Map(first.map((f) => [f, readFileSync(join(out, f))]));
    const mtimes = new Map(first.map((f) => [f, statSync(join(out, f)).mtimeMs]));

    await append(url, LATER);
    const second = await run([
      'events',
      'export',
      '--format',
      'parquet',
      '--out',
      out,
      '--json',
      ...args,
    ]);
    expect(second.code).toBe(0);
    expect(JSON.parse(second.out)).toMatchObject({
      incremental: true,
      events: 2,
      files: 2,
      firstId: 5,
      lastId: 6,
      mark: { before: 4, after: 6 },
    });
    const added = filesUnder(out).filter((f) => !first.includes(f));
    expect(added).toEqual([
      'year=2026/month=06/day=01/part-000000000005-000000000005.parquet',
      'year=2026/month=06/day=02/part-000000000006-000000000006.parquet',
    ]);
    for (const f of first) {
      expect(readFileSync(join(out, f))).toEqual(before.get(f));
      expect(statSync(join(out, f)).mtimeMs).toBe(mtimes.get(f));
    }
    // Every stored event once, across both exports.
    const rows = await readParquet(out);
    expect(rows.map(withoutFile)).toEqual((await storedRows(url)).map(expected));

    const third = await run(['events', 'export', '--format', 'parquet', '--out', out, ...args]);
    expect(third).toMatchObject({
      code: 0,
      out: `nothing new to export to ${out} (exported up to event 6)`,
    });
    expect(filesUnder(out)).toHaveLength(4);
  });

  it('writes NDJSON in the same layout with the same columns, incrementally', async () => {
    const { url, args } = await storeWith(EVENTS);
    const out = outDir();
    expect(
      (await run(['events', 'export', '--format', 'ndjson', '--out', out, ...args])).code,
    ).toBe(0);
    await append(url, LATER);
    expect(
      (await run(['events', 'export', '--format', 'ndjson', '--out', out, ...args])).code,
    ).toBe(0);
    expect(filesUnder(out)).toEqual([
      'year=2026/month=05/day=31/part-000000000001-000000000002.ndjson',
      'year=2026/month=06/day=01/part-000000000003-000000000004.ndjson',
      'year=2026/month=06/day=01/part-000000000005-000000000005.ndjson',
      'year=2026/month=06/day=02/part-000000000006-000000000006.ndjson',
    ]);
    const rows = readNdjson(out);
    expect(rows.map(withoutFile)).toEqual((await storedRows(url)).map(expected));
    // The Parquet mark of the same folder is its own.
    expect(await mark(url, out, 'ndjson')).toBe(6);
    expect(await mark(url, out, 'parquet')).toBeUndefined();
  });

  it.each([
    ['parquet', 'read_parquet'],
    ['ndjson', 'read_json'],
  ] as const)(
    'DuckDB reads the %s export with the day partitions from the path',
    async (format, reader) => {
      const { args } = await storeWith(EVENTS);
      const out = outDir();
      expect(
        (await run(['events', 'export', '--format', format, '--out', out, ...args])).code,
      ).toBe(0);
      const instance = await DuckDBInstance.create(':memory:');
      const connection = await instance.connect();
      try {
        const result = await connection.runAndReadAll(
          `select year::int as year, month::int as month, day::int as day, count(*)::int as events, min(id)::int as first
           from ${reader}('${out}/**/*.${format}', hive_partitioning = true)
          group by all order by first`,
        );
        expect(result.getRowObjectsJson()).toEqual([
          { year: 2026, month: 5, day: 31, events: 2, first: 1 },
          { year: 2026, month: 6, day: 1, events: 2, first: 3 },
        ]);
      } finally {
        connection.closeSync();
        instance.closeSync();
      }
    },
  );

  it('--from/--to export one window once and leave the incremental mark alone', async () => {
    const { url, args } = await storeWith([...EVENTS, ...LATER]);
    const out = outDir();
    const result = await run([
      'events',
      'export',
      '--format',
      'parquet',
      '--out',
      out,
      '--from',
      '2026-06-01T00:00Z',
      '--to',
      '2026-06-02T00:00Z',
      ...args,
    ]);
    expect(result.code).toBe(0);
    expect((await readParquet(out)).map((r) => r.id)).toEqual([3, 4, 5]);
    expect(await mark(url, out, 'parquet')).toBeUndefined();
  });

  it('refuses bad input with one line naming the flag, and writes nothing', async () => {
    const { url, args } = await storeWith(EVENTS);
    const out = outDir();
    const cases: [string[], number, RegExp][] = [
      [
        ['--format', 'csv', '--out', out],
        2,
        /^error: --format csv is not a format of the export; use ndjson or parquet$/,
      ],
      [
        [
          '--format',
          'parquet',
          '--out',
          out,
          '--from',
          '2026-06-01T00:00Z',
          '--to',
          '2026-05-01T00:00Z',
        ],
        2,
        /^error: --to 2026-05-01T00:00:00.000Z is not after --from 2026-06-01T00:00:00.000Z; give a --to later than --from$/,
      ],
      [
        ['--format', 'parquet', '--out', out, '--from', 'yesterdayZ'],
        2,
        /^error: --from "yesterdayZ" is not a date and time/,
      ],
      [
        ['--format', 'parquet', '--out', out, '--to', '2026-06-01T00:00'],
        2,
        /^error: --to "2026-06-01T00:00" has no time zone; add Z or an offset, e.g. 2026-06-01T00:00Z$/,
      ],
      [
        ['--format', 'parquet', '--out', CONFIG],
        5,
        /^error: --out .* is not a directory that can be written \(\w+\): give a writable directory$/,
      ],
      [
        ['--format', 'parquet', '--out', join(CONFIG, 'below')],
        5,
        /^error: --out .* is not a directory that can be written/,
      ],
    ];
    for (const [flags, code, message] of cases) {
      const result = await run(['events', 'export', ...flags, ...args]);
      expect(result.code, flags.join(' ')).toBe(code);
      expect(result.err).toMatch(message);
      expect(result.err.split('\n')).toHaveLength(1);
    }
    expect(filesUnder(out)).toEqual([]);
    expect(await mark(url, out, 'parquet')).toBeUndefined();

    // A one-off export into the folder of incremental ones would repeat their rows.
    expect(
      (await run(['events', 'export', '--format', 'parquet', '--out', out, ...args])).code,
    ).toBe(0);
    const files = filesUnder(out);
    const oneOff = await run([
      'events',
      'export',
      '--format',
      'parquet',
      '--out',
      out,
      '--from',
      '2026-06-01T00:00Z',
      ...args,
    ]);
    expect(oneOff.code).toBe(5);
    expect(oneOff.err).toBe(
      `error: --out ${out} takes incremental parquet exports (up to event 4); a --from/--to export there would repeat their rows: give it another --out`,
    );
    expect(filesUnder(out)).toEqual(files);
  });

  it('`events` and `events export` each take their own --config', async () => {
    const { args } = await storeWith(EVENTS);
    expect(await run(['events', 'export', '--format', 'parquet', '--out', outDir()])).toMatchObject(
      {
        code: 2,
        err: "error: required option '-c, --config <file>' not specified",
      },
    );
    expect(await run(['events', '--kind', 'hold.created'])).toMatchObject({
      code: 2,
      err: "error: required option '-c, --config <file>' not specified",
    });
    const listed = await run(['events', '--kind', 'hold.created', '--json', ...args]);
    expect(listed.code).toBe(0);
    expect((JSON.parse(listed.out) as { events: unknown[] }).events).toHaveLength(1);
  });

  it.each(['parquet', 'ndjson'] as const)(
    'a %s export that fails half-way removes the files it had placed and keeps the mark',
    async (format) => {
      const { url, args } = await storeWith([
        { at: at('2025-12-31T23:00Z'), actor: 'engine', kind: 'run.started', environment: 'dev' },
        { at: at('2026-01-01T01:00Z'), actor: 'engine', kind: 'run.finished', environment: 'dev' },
      ]);
      const out = outDir();
      mkdirSync(out, { recursive: true });
      // 2025's day is written; 2026's folder cannot be made.
      writeFileSync(join(out, 'year=2026'), 'in the way');
      const result = await run(['events', 'export', '--format', format, '--out', out, ...args]);
      expect(result.code).toBe(5);
      expect(result.err).toMatch(
        new RegExp(`^error: export to --out ${out} failed, nothing kept: .*year=2026`),
      );
      expect(result.err.split('\n')).toHaveLength(1);
      expect(filesUnder(out)).toEqual(['year=2026']);
      expect(await mark(url, out, format)).toBeUndefined();

      // One row a chunk: 2025's file is placed before 2026's fails, and then taken away.
      const store = await openStore(url);
      const placed: string[] = [];
      try {
        await expect(
          exportEvents(store, {
            out,
            format,
            now: NOW,
            pageSize: 1,
            chunkRows: 1,
            onProgress: () => placed.push(...filesUnder(out)),
            progressEvery: 1,
          }),
        ).rejects.toThrow(/failed, nothing kept/);
      } finally {
        await store.close();
      }
      expect(placed).toContain(
        `year=2025/month=12/day=31/part-000000000001-000000000001.${format}`,
      );
      expect(filesUnder(out)).toEqual(['year=2026']);
      expect(await mark(url, out, format)).toBeUndefined();
    },
  );

  it('streams in pages and chunks: every row once, files per chunk and day, progress as it goes', async () => {
    const events = Array.from({ length: 23 }, (_, i): EventInput => ({
      at: at('2026-05-31T20:00Z') + i * 30 * 60_000,
      actor: 'engine',
      kind: 'tick',
      payload: { i },
    }));
    const { url } = await storeWith(events);
    const out = outDir();
    const store = await openStore(url);
    const progress: number[] = [];
    try {
      const summary = await exportEvents(store, {
        out,
        format: 'parquet',
        now: NOW,
        pageSize: 4,
        chunkRows: 10,
        progressEvery: 8,
        onProgress: (n) => progress.push(n),
      });
      expect(summary).toMatchObject({
        events: 23,
        firstId: 1,
        lastId: 23,
        mark: { before: 0, after: 23 },
      });
      // Chunks end after 12 and 24 rows (whole pages); 04:00 UTC on the 1st splits the first.
      expect(filesUnder(out)).toEqual([
        'year=2026/month=05/day=31/part-000000000001-000000000008.parquet',
        'year=2026/month=06/day=01/part-000000000009-000000000012.parquet',
        'year=2026/month=06/day=01/part-000000000013-000000000023.parquet',
      ]);
      expect(progress).toEqual([8, 16]);
      expect((await readParquet(out)).map((r) => r.id)).toEqual(events.map((_, i) => i + 1));
    } finally {
      await store.close();
    }
  });

  it.each(['parquet', 'ndjson'] as const)(
    '%s: an event recorded late for an earlier day, and payloads JSON must escape, read back as stored, each file in id order',
    async (format) => {
      const d1 = at('2026-05-31T10:00Z');
      const d2 = at('2026-06-01T10:00Z');
      const payloads = [
        { text: 'line\nbreak\ttab \u0001 back\\slash "quoted"' },
        { emoji: '🌙', nul: null, deep: { a: [1, 2.5, true] } },
      ];
      // Pages of three: ids 1-3 | 4-6 | 7-9 | 10, by day 1 1 1 | 2 1 2 | 2 2 2 | 1.
      const days = [d1, d1, d1, d2, d1, d2, d2, d2, d2, d1];
      const { url } = await storeWith(
        days.map((day, i) => ({
          at: day + i * 1000,
          actor: 'engine',
          kind: 'tick',
          ...(i % 2 === 0 ? { resource: 'sandbox:ec2:dev-web' } : {}),
          payload: payloads[i % 2]!,
        })),
      );
      const out = outDir();
      const store = await openStore(url);
      try {
        await exportEvents(store, { out, format, now: NOW, pageSize: 3 });
      } finally {
        await store.close();
      }
      const rows = format === 'parquet' ? await readParquet(out) : readNdjson(out);
      expect(rows.map(withoutFile)).toEqual((await storedRows(url)).map(expected));
      // Parquet: day 1 is written once the pages move past it, so the late event gets
      // a file of its own; NDJSON appends to the day's file until the chunk ends.
      expect(filesUnder(out)).toEqual(
        format === 'parquet'
          ? [
              'year=2026/month=05/day=31/part-000000000001-000000000005.parquet',
              'year=2026/month=05/day=31/part-000000000010-000000000010.parquet',
              'year=2026/month=06/day=01/part-000000000004-000000000009.parquet',
            ]
          : [
              'year=2026/month=05/day=31/part-000000000001-000000000010.ndjson',
              'year=2026/month=06/day=01/part-000000000004-000000000009.ndjson',
            ],
      );
      const unsorted = format === 'parquet' ? await readUnsorted(out) : readNdjsonInFileOrder(out);
      for (const file of filesUnder(out)) {
        const ids = unsorted.filter((r) => r.file === file).map((r) => r.id);
        expect(ids, file).toEqual([...ids].sort((a, b) => a - b));
      }
    },
  );
});
