/**
 * GET /api/v1/events as the events page and API users read it, on SQLite and
 * PostgreSQL: filters (environment, team, kinds and families, actor, run, window),
 * the text search and its bounded window, newest-first pages, team scoping, and
 * the exports of a filter (NDJSON and CSV: RFC 4180 quoting, formula escaping,
 * streamed a page at a time, with a file name).
 */
import { once } from 'node:events';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:http';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { newToken } from '../../src/api/tokens.js';
import type { EventInput } from '../../src/store/queries/events.js';
import { at } from '../helpers.js';
import { DATABASES } from '../store/databases.js';
import type { ServedApi } from './server.js';
import { NOW, serveOn } from './server.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const RUN = '0197c1b2-aaaa-7000-8000-000000000001';

/**
 * A small log: dev and lab are the payments team's, long is of no team. Oldest
 * first; `at` one hour apart, ending an hour before now (Monday 1 June 2026 12:00 UTC).
 */
const LOG: EventInput[] = [
  { at: NOW - 40 * DAY, actor: 'demo', kind: 'demo.seeded', environment: 'dev' },
  {
    at: NOW - 6 * HOUR,
    actor: 'scheduler',
    kind: 'run.created',
    environment: 'dev',
    runId: RUN,
    payload: { direction: 'stop', trigger: 'schedule' },
  },
  {
    at: NOW - 5 * HOUR,
    actor: 'lightsout',
    kind: 'run.finished',
    environment: 'dev',
    runId: RUN,
    payload: { outcome: 'failed', error: 'AccessDenied: Sandbox-Web refused' },
  },
  {
    at: NOW - 4 * HOUR,
    actor: 'api:alice',
    kind: 'hold.created',
    environment: 'lab',
    payload: { id: 'h1', state: 'on', until: '2026-06-01T20:00:00.000Z' },
  },
  {
    at: NOW - 3 * HOUR,
    actor: 'api:bob',
    kind: 'reservation.created',
    environment: 'long',
    payload: { id: 'r1', from: '2026-06-02T06:00:00.000Z', to: '2026-06-02T07:00:00.000Z' },
  },
  {
    at: NOW - 2 * HOUR,
    actor: 'lightsout',
    kind: 'resource.output',
    environment: 'dev',
    resource: 'cmd:build-01',
    runId: RUN,
    payload: { action: 'stop', result: 'accepted', output: 'vm build-01 stopped' },
  },
  {
    at: NOW - 1 * HOUR,
    actor: 'scheduler',
    kind: 'run.created',
    environment: 'long',
    runId: '0197c1b2-bbbb-7000-8000-000000000002',
    payload: { direction: 'start', trigger: 'schedule' },
  },
];

interface Listed {
  readonly id: number;
  readonly kind: string;
  readonly environment: string | null;
  readonly actor: string;
  readonly at: string;
}

describe.each(DATABASES)('the events API on $name', (database) => {
  let api: ServedApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });

  /** The API with LOG recorded, and a payments operator's token `payments`. */
  async function serve(log: readonly EventInput[] = LOG) {
    api = await serveOn(database);
    await api.store.appendEvents(log);
    const { token, hash } = newToken();
    await api.store.addToken(
      { id: 'payments', name: 'payments', role: 'operator', team: 'payments', hash },
      api.clock.now(),
    );
    const served = api;
    const list = async (who: string, query: string) => {
      const answer = await served.call(
        who === 'payments' ? token : who,
        'GET',
        `/api/v1/events?${query}`,
      );
      expect(answer.status, answer.text).toBe(200);
      return answer.body as { events: Listed[]; next?: string; searched?: unknown };
    };
    const kinds = async (who: string, query: string) =>
      (await list(who, query)).events.map((e) => `${e.environment ?? '-'} ${e.kind}`);
    const raw = (who: string, query: string, headers: Record<string, string> = {}) =>
      fetch(`${served.base}/api/v1/events?${query}`, {
        headers: {
          authorization: `Bearer ${who === 'payments' ? token : served.tokenOf(who)}`,
          ...headers,
        },
      });
    return { ...served, list, kinds, raw, paymentsToken: token };
  }

  it('filters by environment, team, kinds, families, actor, run and window', async () => {
    const { kinds } = await serve();
    expect(await kinds('viewer', 'environment=lab')).toEqual(['lab hold.created']);
    expect(await kinds('viewer', 'team=payments')).toEqual([
      'dev demo.seeded',
      'dev run.created',
      'dev run.finished',
      'lab hold.created',
      'dev resource.output',
    ]);
    expect(await kinds('viewer', 'kind=run.created')).toEqual([
      'dev run.created',
      'long run.created',
    ]);
    expect(await kinds('viewer', 'kind=hold.created,reservation.created')).toEqual([
      'lab hold.created',
      'long reservation.created',
    ]);
    // A family is every kind of it, and only of it (`run.*` is not `runner.…`).
    expect(await kinds('viewer', 'kind=run.*')).toEqual([
      'dev run.created',
      'dev run.finished',
      'long run.created',
    ]);
    expect(await kinds('viewer', 'kind=run.*,hold.created&environment=dev')).toEqual([
      'dev run.created',
      'dev run.finished',
    ]);
    expect(await kinds('viewer', 'actor=api:bob')).toEqual(['long reservation.created']);
    expect(await kinds('viewer', `run=${RUN}`)).toEqual([
      'dev run.created',
      'dev run.finished',
      'dev resource.output',
    ]);
    expect(await kinds('viewer', 'resource=cmd:build-01')).toEqual(['dev resource.output']);
    expect(
      await kinds('viewer', 'since=2026-06-01T08:00Z&until=2026-06-01T10:00Z&team=payments'),
    ).toEqual(['lab hold.created']);
    // An environment outside the named team: nothing.
    expect(await kinds('viewer', 'team=payments&environment=long')).toEqual([]);
  });

  it('pages newest first with a cursor when asked, oldest first by default', async () => {
    const { list } = await serve();
    const first = await list('viewer', 'order=desc&limit=2');
    expect(first.events.map((e) => e.kind)).toEqual(['run.created', 'resource.output']);
    const second = await list('viewer', `order=desc&limit=2&after=${first.next!}`);
    expect(second.events.map((e) => e.kind)).toEqual(['reservation.created', 'hold.created']);
    expect(second.events[0]!.id).toBeLessThan(first.events[1]!.id);
    const oldest = await list('viewer', 'limit=1');
    expect(oldest.events.map((e) => e.kind)).toEqual(['demo.seeded']);
  });

  it('searches the text of environment, kind, actor, resource, run id and payload, case-insensitive, over a bounded window', async () => {
    const { kinds, list, call } = await serve();
    // In a payload, in any case.
    expect(await kinds('viewer', 'q=sandbox-web')).toEqual(['dev run.finished']);
    expect(await kinds('viewer', 'q=BUILD-01')).toEqual(['dev resource.output']);
    // In the actor, the kind, the environment and the run id.
    expect(await kinds('viewer', 'q=bob')).toEqual(['long reservation.created']);
    expect(await kinds('viewer', 'q=hold.')).toEqual(['lab hold.created']);
    expect(await kinds('viewer', 'q=bbbb-7000')).toEqual(['long run.created']);
    expect(await kinds('viewer', 'q=lab&kind=hold.*')).toEqual(['lab hold.created']);
    // A search pages newest first with its cursor too.
    const first = await list('viewer', 'q=run.&order=desc&limit=2');
    expect(first.events.map((e) => `${e.environment} ${e.kind}`)).toEqual([
      'long run.created',
      'dev run.finished',
    ]);
    expect(await kinds('viewer', `q=run.&order=desc&limit=2&after=${first.next!}`)).toEqual([
      'dev run.created',
    ]);
    // Characters LIKE would read as wildcards are text.
    expect(await kinds('viewer', 'q=%25')).toEqual([]);
    expect(await kinds('viewer', 'q=_')).toEqual([]);
    // By default the last 7 days: the demo's seeding 40 days back is not searched...
    const recent = await list('viewer', 'q=demo');
    expect(recent.events).toEqual([]);
    expect(recent.searched).toEqual({ since: '2026-05-25T12:00:00.000Z', until: null });
    // ...unless the window reaches it, at most 31 days long.
    expect(await kinds('viewer', 'q=demo&since=2026-04-20T00:00Z&until=2026-05-20T00:00Z')).toEqual(
      ['dev demo.seeded'],
    );
    const tooLong = await call('viewer', 'GET', '/api/v1/events?q=demo&since=2026-04-01T00:00Z');
    expect(tooLong.status).toBe(422);
    expect(tooLong.body).toMatchObject({
      type: 'https://lightsout.dev/problems/search-window-too-long',
      field: 'since',
    });
    expect((await call('viewer', 'GET', `/api/v1/events?q=${'x'.repeat(201)}`)).status).toBe(400);
    expect((await call('viewer', 'GET', '/api/v1/events?kind=run.created;drop')).status).toBe(400);
    expect((await call('viewer', 'GET', '/api/v1/events?order=sideways')).status).toBe(400);
  });

  it("a team's token gets its team's events only, whatever it asks", async () => {
    const { kinds, paymentsToken, call, raw } = await serve();
    const payments = [
      'dev demo.seeded',
      'dev run.created',
      'dev run.finished',
      'lab hold.created',
      'dev resource.output',
    ];
    expect(await kinds('payments', '')).toEqual(payments);
    expect(await kinds('payments', 'kind=run.*')).toEqual(['dev run.created', 'dev run.finished']);
    // A search that matches another team's event finds nothing of it.
    expect(await kinds('payments', 'q=bob')).toEqual([]);
    expect(await kinds('payments', 'q=bbbb')).toEqual([]);
    // Naming another team's environment, or a team it is not in: they do not exist for it.
    const other = await call(paymentsToken, 'GET', '/api/v1/events?environment=long');
    expect([other.status, other.body?.type]).toEqual([
      404,
      'https://lightsout.dev/problems/unknown-environment',
    ]);
    const team = await call(paymentsToken, 'GET', '/api/v1/events?team=search');
    expect([team.status, team.body?.type]).toEqual([
      404,
      'https://lightsout.dev/problems/unknown-team',
    ]);
    // The exports of its filter hold its team's events only.
    const csv = await (await raw('payments', 'format=csv')).text();
    expect(csv).not.toContain('long');
    expect(csv.trim().split('\r\n')).toHaveLength(1 + payments.length);
    const ndjson = await (await raw('payments', 'format=ndjson&q=run.')).text();
    expect(
      ndjson
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as Listed).environment),
    ).toEqual(['dev', 'dev']);
  });

  it('exports the filter as CSV: a header, RFC 4180 quoting, formulas escaped, the payload as JSON, a file name', async () => {
    const { raw } = await serve([
      {
        at: at('2026-06-01T10:00Z'),
        actor: '=HYPERLINK("http://evil.example","click")',
        kind: 'hold.created',
        environment: 'dev',
        resource: 'cmd:a\nb',
        payload: { id: 'h1', note: 'a, "quoted"\nline' },
      },
      { at: at('2026-06-01T10:01Z'), actor: '+1+2', kind: 'hold.deleted', environment: 'dev' },
      { at: at('2026-06-01T10:02Z'), actor: '-2+3', kind: 'hold.deleted', environment: 'dev' },
      { at: at('2026-06-01T10:03Z'), actor: '@SUM(A1)', kind: 'hold.deleted', environment: 'dev' },
      { at: at('2026-06-01T10:04Z'), actor: 'api:ci', kind: 'run.created', environment: 'lab' },
    ]);
    const answer = await raw('viewer', 'kind=hold.*', { accept: 'text/csv' });
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^text\/csv; charset=utf-8/);
    expect(answer.headers.get('content-disposition')).toBe(
      'attachment; filename="lightsout-events-20260601T120000Z.csv"',
    );
    const text = await answer.text();
    const rows = text.split('\r\n');
    expect(rows[0]).toBe('id,at,kind,environment,resource,runId,actor,payload');
    // A quote inside a quoted field is doubled; a comma or a line break inside one is kept.
    expect(rows[1]!.replace(/^\d+,/, '')).toBe(
      `2026-06-01T10:00:00.000Z,hold.created,dev,"cmd:a\nb",,"'=HYPERLINK(""http://evil.example"",""click"")","{""id"":""h1"",""note"":""a, \\""quoted\\""\\nline""}"`,
    );
    expect(rows.slice(2, 5).map((r) => r.split(',')[6])).toEqual(["'+1+2", "'-2+3", "'@SUM(A1)"]);
    expect(rows[2]!.endsWith(',{}')).toBe(true);
    expect(rows.slice(5)).toEqual(['']);
    // format=csv (a download link) answers the same.
    expect(await (await raw('viewer', 'kind=hold.*&format=csv')).text()).toBe(text);
  });

  it('exports NDJSON as a download with format=ndjson, as Accept: application/x-ndjson streams it', async () => {
    const { raw } = await serve();
    const answer = await raw('viewer', 'format=ndjson&order=desc&environment=dev');
    expect(answer.headers.get('content-type')).toContain('application/x-ndjson');
    expect(answer.headers.get('content-disposition')).toBe(
      'attachment; filename="lightsout-events-20260601T120000Z.ndjson"',
    );
    const lines = (await answer.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Listed & { schema: number });
    expect(lines.map((e) => e.kind)).toEqual([
      'resource.output',
      'run.finished',
      'run.created',
      'demo.seeded',
    ]);
    expect(lines[0]).toMatchObject({ schema: 2, at: '2026-06-01T10:00:00.000Z' });
  });

  it('streams a large CSV export a page at a time, and stops reading when the client goes away', async () => {
    const count = 5_000;
    const { raw, store, base, tokenOf, http } = await serve(
      Array.from({ length: count }, (_, i) => ({
        at: NOW - DAY + i,
        actor: 'scheduler',
        kind: 'run.created',
        environment: 'dev',
        payload: { n: i, text: 'a, b' },
      })),
    );
    const read = store.queryEvents;
    const pages = vi.spyOn(store, 'queryEvents');
    const all = await (await raw('viewer', 'format=csv')).text();
    const rows = all.trim().split('\r\n');
    expect(rows).toHaveLength(1 + count);
    expect(rows[count]!.replace(/^\d+,/, '')).toBe(
      `${new Date(NOW - DAY + count - 1).toISOString()},run.created,dev,,,scheduler,"{""n"":${count - 1},""text"":""a, b""}"`,
    );
    // Read in pages of 500, never the whole log at once.
    expect(pages.mock.calls.map(([, page]) => page?.limit)).toEqual(Array(count / 500).fill(500));
    pages.mockReset();

    // A client that reads the first bytes and leaves: the second page waits for it to
    // be gone, and no third is read.
    const gone = new Promise<void>((resolve) => {
      http.server.on('request', (incoming: { url?: string }, response: NodeJS.EventEmitter) => {
        if (incoming.url?.includes('format=csv') === true) response.on('close', resolve);
      });
    });
    pages.mockImplementation(async (filter, page) => {
      if (pages.mock.calls.length > 1) await gone;
      return read(filter, page);
    });
    const response = await new Promise<IncomingMessage>((resolve, reject) => {
      request(`${base}/api/v1/events?format=csv`, {
        headers: { authorization: `Bearer ${tokenOf('admin')}` },
      })
        .on('response', resolve)
        .on('error', reject)
        .end();
    });
    const [first] = (await once(response, 'data')) as [Buffer];
    expect(first.toString()).toMatch(/^id,at,kind/);
    response.destroy();
    await gone;
    for (let turn = 0; turn < 5; turn++) await new Promise((resolve) => setImmediate(resolve));
    expect(pages).toHaveBeenCalledTimes(2);
  });
});
