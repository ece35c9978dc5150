/**
 * The events page's pure parts: the one-line summary of an event, times named
 * with their zone, and the filter as the URL holds it.
 */
import { describe, expect, it } from 'vitest';
import { filterOf, queryOf } from '../../web/src/events-api.js';
import type { LoggedEvent } from '../../web/src/events-api.js';
import { summary, timeIn } from '../../web/src/events-summary.js';

const event = (kind: string, payload: Record<string, unknown>): LoggedEvent => ({
  id: 1,
  at: '2026-06-01T12:00:00.000Z',
  actor: 'scheduler',
  kind,
  environment: 'dev',
  resource: null,
  runId: null,
  payload,
});

describe('the events page', () => {
  it('names the zone of every time it shows', () => {
    expect(timeIn('2026-06-01T12:00:05.000Z', 'Europe/Paris')).toBe(
      'Mon, 1 Jun 2026, 14:00:05 (Europe/Paris)',
    );
    expect(timeIn('2026-06-01T12:00:05.000Z', 'UTC', false)).toBe('Mon, 1 Jun 2026, 12:00 (UTC)');
  });

  it('says in one line what an event is about', () => {
    expect(summary(event('run.finished', { error: 'AccessDenied' }))).toBe(
      'run failed: AccessDenied',
    );
    expect(
      summary(
        event('run.finished', {
          direction: 'stop',
          outcome: 'succeeded',
          durationMs: 61_000,
          failures: [],
        }),
      ),
    ).toBe('stop run succeeded in 61 s');
    expect(summary(event('notice.sent', { notice: 'stop-warning', channel: 'ops-slack' }))).toBe(
      'stop-warning sent on ops-slack',
    );
    expect(summary(event('drift.detected', { desired: 'off', resources: ['a', 'b'] }))).toBe(
      '2 resources found otherwise; brought back off',
    );
    // A kind the page does not know yet: its first fields.
    expect(summary(event('future.kind', { a: 1, b: 'two' }))).toBe('a: 1, b: two');
    expect(summary(event('future.empty', {}))).toBe('future.empty');
  });

  it('keeps the filter in the URL: known parameters with a value, in one order', () => {
    const filter = filterOf({
      q: ' web ',
      kind: 'run.*',
      page: '3',
      actor: '',
      environment: 'dev',
    });
    expect(filter).toEqual({ q: 'web', kind: 'run.*', environment: 'dev' });
    expect(queryOf(filter)).toBe('environment=dev&kind=run.*&q=web');
    expect(filterOf(Object.fromEntries(new URLSearchParams(queryOf(filter))))).toEqual(filter);
  });
});
