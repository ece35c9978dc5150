/**
 * Input the API refuses, on SQLite and PostgreSQL: every refusal is a 4xx
 * problem+json naming the field, nothing internal leaks, and no request makes the
 * server plan an unbounded window (a reservation from 1970 once blocked the event
 * loop for seconds).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DATABASES } from '../store/databases.js';
import { at } from '../helpers.js';
import type { Answer, ServedApi } from './server.js';
import { NOW, parseRaw, serveOn } from './server.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const problem = (name: string) => `https://lightsout.dev/problems/${name}`;

function expectProblem(answer: Answer, status: number, type: string, field?: string) {
  expect(answer.type).toContain('application/problem+json');
  expect(answer.body).toMatchObject({
    type: problem(type),
    status,
    ...(field === undefined ? {} : { field }),
  });
  expect([answer.status, answer.body?.title, answer.body?.detail]).toEqual([
    status,
    expect.any(String),
    expect.any(String),
  ]);
}

describe.each(DATABASES)('bad input on $name', (database) => {
  let api: ServedApi | undefined;
  afterEach(async () => {
    await api?.close();
    api = undefined;
  });
  const serve = async () => (api = await serveOn(database));

  describe('reservations', () => {
    it.each([
      ['1970-01-01T00:00Z', 'from'],
      ['0999-01-01T00:00Z', 'from'],
      ['2026-06-01T10:59Z', 'from'],
    ])('refuses one that starts at %s (over 1h back) with 422 naming the field', async (from) => {
      const { call } = await serve();
      const answer = await call('operator', 'POST', '/api/v1/reservations', {
        environment: 'dev',
        from,
        to: '2026-06-01T20:00Z',
      });
      // Years before 1970 are not times the API reads at all (400 invalid-time).
      if (from.startsWith('0999')) expectProblem(answer, 400, 'invalid-time', 'from');
      else {
        expectProblem(answer, 422, 'start-too-far-back', 'from');
        expect(answer.body?.detail).toContain('1h');
      }
    });

    it('names start_time on /provision', async () => {
      const { call } = await serve();
      const answer = await call('operator', 'POST', '/provision', {
        ec2_instances_id: 'i-0abc',
        start_time: '2026-05-01T09:00:00',
        end_time: '2026-06-02T18:00:00',
      });
      expectProblem(answer, 422, 'start-too-far-back', 'start_time');
    });

    it('takes one that began within the hour, and plans only around it', async () => {
      const { call, engine } = await serve();
      const planned = vi.spyOn(engine, 'onWindows');
      const answer = await call('operator', 'POST', '/api/v1/reservations', {
        environment: 'dev',
        from: '2026-06-01T11:01Z',
        to: '2026-06-01T20:00Z',
      });
      expect(answer.status).toBe(201);
      const [, from, to] = planned.mock.calls[0]!;
      expect([from, to]).toEqual([at('2026-06-01T11:01Z'), at('2026-06-02T20:00Z')]);
      expect(answer.body?.onWindows).toEqual([
        { from: '2026-06-01T11:01:00.000Z', to: '2026-06-01T20:00:00.000Z' },
        { from: '2026-06-02T06:00:00.000Z', to: '2026-06-02T16:00:00.000Z' },
      ]);
    });

    it('answers a long one (max_reservation 400 days) with a bounded window of on-windows', async () => {
      const { call, engine } = await serve();
      const planned = vi.spyOn(engine, 'onWindows');
      const answer = await call('operator', 'POST', '/api/v1/reservations', {
        environment: 'long',
        from: '2026-06-01T12:00Z',
        to: '2027-06-01T12:00Z',
      });
      expect(answer.status).toBe(201);
      const [, from, to] = planned.mock.calls[0]!;
      expect([from, to]).toEqual([NOW, NOW + 31 * DAY]);
    });
  });

  describe('durations and reach', () => {
    it.each([
      ['/api/v1/environments/dev/stop', { grace: '99999999d' }, 'grace', '24h'],
      ['/api/v1/environments/dev/stop', { grace: '25h' }, 'grace', '24h'],
      ['/api/v1/environments/dev/boost', { for: '99999999d' }, 'for', '7d'],
    ])('%s %j is 422 naming the field and its maximum', async (path, body, field, bound) => {
      const { call } = await serve();
      const answer = await call('operator', 'POST', path, body);
      expectProblem(answer, 422, 'duration-too-long', field);
      expect(answer.body?.detail).toContain(bound);
    });

    it('takes a grace at its maximum', async () => {
      const { call } = await serve();
      const answer = await call('operator', 'POST', '/api/v1/environments/dev/stop', {
        grace: '24h',
      });
      expect(answer.status).toBe(202);
      expect(answer.body?.actAt).toBe('2026-06-02T12:00:00.000Z');
    });

    it.each([
      ['/api/v1/environments/dev/extend', { until: '2028-01-01T00:00Z' }],
      ['/api/v1/holds', { environment: 'dev', state: 'off', until: '9999-12-31T00:00Z' }],
    ])('%s until more than 366 days ahead is 422 naming until', async (path, body) => {
      const { call } = await serve();
      expectProblem(await call('operator', 'POST', path, body), 422, 'too-far-ahead', 'until');
    });

    it('refuses a cancel that holds on for more than 366 days', async () => {
      const { call } = await serve();
      const stop = await call('operator', 'POST', '/api/v1/environments/dev/stop', {});
      const answer = await call(
        'operator',
        'POST',
        `/api/v1/runs/${String(stop.body?.id)}/cancel`,
        {
          until: '2030-01-01T00:00Z',
        },
      );
      expectProblem(answer, 422, 'too-far-ahead', 'until');
    });

    it.each(['+275760-09-13T00:00:00Z', '+010000-01-01T00:00Z', '1969-12-31T23:59Z'])(
      'reads no time outside the years 1970 to 9999 (%s)',
      async (until) => {
        const { call } = await serve();
        const answer = await call('operator', 'POST', '/api/v1/holds', {
          environment: 'dev',
          state: 'on',
          until,
        });
        expectProblem(answer, 400, 'invalid-time', 'until');
      },
    );
  });

  describe('query strings', () => {
    it.each([
      ['/api/v1/runs?limit=1&limit=2', 'limit'],
      ['/api/v1/runs?environment=dev&environment=lab', 'environment'],
      ['/api/v1/events?after=a&after=b', 'after'],
      ['/api/v1/events?kind=a&kind=b&kind=c', 'kind'],
      ['/api/v1/reservations?environment=dev&environment=dev', 'environment'],
      ['/api/v1/holds?environment=dev&environment=lab', 'environment'],
    ])('%s: a parameter given twice is 400 naming it', async (path, field) => {
      const { call, logged } = await serve();
      const answer = await call('admin', 'GET', path);
      expectProblem(answer, 400, 'invalid-query', field);
      expect(answer.body?.detail).toMatch(/given \d times; give it once/);
      expect(logged).toEqual([]);
    });

    it.each([
      ['/api/v1/runs?limit=0', 'invalid-query', 'limit'],
      ['/api/v1/runs?limit=501', 'invalid-query', 'limit'],
      ['/api/v1/events?limit=many', 'invalid-query', 'limit'],
      ['/api/v1/events?limit=%FF', 'invalid-query', 'limit'],
      ['/api/v1/events?environment=', 'invalid-query', 'environment'],
      ['/api/v1/events?enviroment=dev', 'invalid-query', 'enviroment'],
      ['/api/v1/reservations?from=now', 'invalid-time', 'from'],
    ])('%s is 400 %s naming the parameter', async (path, type, field) => {
      const { call } = await serve();
      expectProblem(await call('admin', 'GET', path), 400, type, field);
    });

    it('answers a cursor that is not one with invalid-cursor, and nothing from the database', async () => {
      const { call } = await serve();
      const cursor = Buffer.from('e1; drop x').toString('base64url');
      const answer = await call('admin', 'GET', `/api/v1/events?after=${cursor}`);
      expectProblem(answer, 400, 'invalid-cursor', 'after');
      expect(answer.body?.detail).not.toMatch(/sqlite|postgres|syntax|SQL/i);
    });

    it('answers a cursor past any event id: an empty page, or 400 beyond 64-bit ids', async () => {
      const { call, logged } = await serve();
      const cursor = (digits: number) =>
        Buffer.from(`e${'9'.repeat(digits)}`).toString('base64url');
      const far = await call('admin', 'GET', `/api/v1/events?after=${cursor(18)}`);
      expect([far.status, far.body]).toEqual([200, { events: [] }]);
      const beyond = await call('admin', 'GET', `/api/v1/events?after=${cursor(30)}`);
      expectProblem(beyond, 400, 'invalid-query', 'after');
      expect(logged).toEqual([]);
    });

    it('takes the parameters it declares', async () => {
      const { call } = await serve();
      const answer = await call(
        'admin',
        'GET',
        '/api/v1/events?environment=dev&kind=run.created&actor=api:x&since=2026-06-01T00:00Z&until=2026-06-02T00:00Z&limit=5',
      );
      expect([answer.status, answer.body]).toEqual([200, { events: [] }]);
      expect((await call('admin', 'GET', '/api/v1/runs?limit=500')).status).toBe(200);
    });
  });

  describe("the framework's own errors", () => {
    it('answers a path that is not UTF-8 with 400 problem+json', async () => {
      const { call } = await serve();
      expectProblem(await call('admin', 'GET', '/api/v1/environments/%FF'), 400, 'bad-url');
      expectProblem(await call('admin', 'GET', '/api/v1/runs/%C0%AF'), 400, 'bad-url');
    });

    it('answers a path part over 100 characters with 414 problem+json', async () => {
      const { call } = await serve();
      const answer = await call('admin', 'GET', `/api/v1/environments/${'a'.repeat(101)}`);
      expectProblem(answer, 414, 'uri-too-long');
    });

    it.each([
      [
        'a URL over 16 KiB',
        `GET /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`,
        414,
        'uri-too-long',
      ],
      [
        'headers over 16 KiB',
        `GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`,
        431,
        'headers-too-large',
      ],
      ['bytes that are not HTTP', 'HELLO\r\n\r\n', 400, 'bad-request'],
    ])('answers %s with %i problem+json', async (_what, request, status, type) => {
      const { raw } = await serve();
      const answer = parseRaw(await raw(request));
      expect(answer).toMatchObject({
        status,
        type: 'application/problem+json',
        body: {
          type: problem(type),
          status,
          title: expect.any(String) as unknown,
          detail: expect.any(String) as unknown,
        },
      });
    });

    it('answers an unknown route with 404 problem+json', async () => {
      const { call } = await serve();
      expectProblem(await call('admin', 'GET', '/api/v2/nothing'), 404, 'not-found');
    });
  });
});

it('docs/api.md names every problem type the API answers', () => {
  const directory = new URL('../../src/api/', import.meta.url);
  const source = readdirSync(directory)
    .map((file) => readFileSync(new URL(file, directory), 'utf8'))
    .join('\n');
  const types = new Set(
    [...source.matchAll(/new Problem\(\s*\d+,\s*'([a-z-]+)'|type: '([a-z-]+)',\s*title:/g)].map(
      ([, thrown, named]) => thrown ?? named,
    ),
  );
  expect(types.size).toBeGreaterThan(20);
  const docs = readFileSync(new URL('../../docs/api.md', import.meta.url), 'utf8');
  expect([...types].filter((type) => !docs.includes(`\`${type ?? ''}\``))).toEqual([]);
});
