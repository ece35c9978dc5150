/** The decision of a stop whose time came, under require_notice, from its warning's rows alone. */
import { describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import { noticeWait } from '../../src/engine/notice-wait.js';
import type { StoredNotice } from '../../src/store/queries/notices.js';
import type { Run } from '../../src/store/queries/runs.js';
import { at } from '../helpers.js';

const MINUTE = 60_000;
const ACT_AT = at('2026-06-01T18:00Z');

const environment: Environment = {
  name: 'dev',
  timezone: 'UTC',
  notify: ['slack', 'mail'],
  requireNotice: { waitMs: 60 * MINUTE },
};
const run = { id: 'r1', direction: 'stop', act_at: ACT_AT, status: 'grace' } as Run;

function warning(channel: string, status: StoredNotice['status'], sentAt?: number): StoredNotice {
  return {
    id: 1,
    run_id: 'r1',
    kind: 'stop-warning',
    status,
    attempts: 1,
    next_at: ACT_AT,
    environment: 'dev',
    team: null,
    body: '{}',
    error: null,
    sent_at: sentAt ?? null,
    channel,
  };
}

describe('noticeWait', () => {
  it('acts without require_notice, whatever the channels did', () => {
    const plain: Environment = { name: 'dev', timezone: 'UTC', notify: ['slack'] };
    expect(noticeWait(plain, run, [warning('slack', 'failed')], ACT_AT)).toEqual({ kind: 'act' });
  });

  it('acts on time when a channel took the warning before the stop', () => {
    const notices = [warning('slack', 'failed'), warning('mail', 'sent', ACT_AT - 14 * MINUTE)];
    expect(noticeWait(environment, run, notices, ACT_AT)).toEqual({ kind: 'act' });
  });

  it('waits until the bound while no channel took it; the log does not count', () => {
    const notices = [warning('', 'sent', ACT_AT - MINUTE), warning('slack', 'pending')];
    expect(noticeWait(environment, run, notices, ACT_AT + 5 * MINUTE)).toEqual({
      kind: 'wait',
      until: ACT_AT + 60 * MINUTE,
    });
  });

  it('acts late once a channel took it after the stop time', () => {
    const notices = [warning('slack', 'sent', ACT_AT + 3 * MINUTE), warning('mail', 'failed')];
    expect(noticeWait(environment, run, notices, ACT_AT + 3 * MINUTE)).toEqual({
      kind: 'act-late',
      channel: 'slack',
      waitedMs: 3 * MINUTE,
    });
  });

  it('acts at the bound, undelivered, naming each channel state', () => {
    const notices = [warning('slack', 'failed'), warning('mail', 'pending')];
    expect(noticeWait(environment, run, notices, ACT_AT + 60 * MINUTE)).toEqual({
      kind: 'act-undelivered',
      waitedMs: 60 * MINUTE,
      channels: [
        { channel: 'slack', status: 'failed', attempts: 1 },
        { channel: 'mail', status: 'pending', attempts: 1 },
      ],
    });
  });

  it('acts at once when there is no warning to wait for (a retry, no grace) or it is a start', () => {
    expect(noticeWait(environment, run, [], ACT_AT)).toEqual({ kind: 'act' });
    const start = { ...run, direction: 'start' } as Run;
    expect(noticeWait(environment, start, [warning('slack', 'pending')], ACT_AT)).toEqual({
      kind: 'act',
    });
  });
});
