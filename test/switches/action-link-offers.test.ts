/**
 * Which actions a warning offers, and what a link's signature binds, with the
 * store and engine stood in for: the behaviour through the real engine is in
 * action-links.test.ts.
 */
import { describe, expect, it } from 'vitest';
import type { Environment } from '../../src/core/glossary.js';
import type { Notice } from '../../src/engine/ports.js';
import type { Run } from '../../src/store/queries/runs.js';
import type { LinkUseRow } from '../../src/store/schema.js';
import { ActionLinks } from '../../src/switches/action-links.js';
import { scheduledStop } from '../support/runs.js';

const NOW = Date.parse('2026-06-01T17:45:00Z');
const dev: Environment = { name: 'dev', timezone: 'UTC', requireNotice: { waitMs: 3_600_000 } };

const runOf = (fields: Partial<Run>): Run => scheduledStop(NOW, fields);

function linksFor(run: Run, nextStart: number | undefined) {
  const uses = new Map<string, LinkUseRow>();
  return new ActionLinks({
    store: {
      getRun: (id) => Promise.resolve(id === run.id ? run : undefined),
      linkKey: () => Promise.resolve('a-fixed-key-for-tests'),
      claimLinkUse: (use) => {
        if (uses.has(use.token_hash)) return Promise.resolve(false);
        uses.set(use.token_hash, use);
        return Promise.resolve(true);
      },
      linkUse: (hash) => Promise.resolve(uses.get(hash)),
      releaseLinkUse: (hash) => Promise.resolve(void uses.delete(hash)),
    },
    engine: () => ({
      nextScheduledStart: () => nextStart,
      cancel: () => Promise.reject(new Error('not in this test')),
      command: () => Promise.reject(new Error('not in this test')),
    }),
    environments: new Map([['dev', dev]]),
    publicUrl: 'https://lightsout.example.com',
    audiences: new Map([['ops-mail', 'email to ops@example.com']]),
    now: () => NOW,
  });
}

const warning: Notice = {
  kind: 'stop-warning',
  environment: 'dev',
  runId: 'run-1',
  text: 'dev stops at 18:00',
  at: NOW,
  channel: 'ops-mail',
};

describe('the actions a stop warning offers', () => {
  it('offers all three to an environment with a scheduled start ahead, as links under public_url', async () => {
    const actions = await linksFor(runOf({}), NOW + 14 * 3_600_000).actionsFor(warning);
    expect(actions.map((a) => a.action)).toEqual(['keep-1h', 'keep-until-start', 'stop-now']);
    for (const a of actions)
      expect(a.url).toBe(`https://lightsout.example.com/actions?token=${a.token}`);
  });

  it('leaves out "until the next scheduled start" when there is none', async () => {
    const actions = await linksFor(runOf({}), undefined).actionsFor(warning);
    expect(actions.map((a) => a.action)).toEqual(['keep-1h', 'stop-now']);
  });

  it('never offers "stop now" for resources reserved alone: it would stop the whole environment', async () => {
    const run = runOf({ target: 'sandbox:ec2:db', trigger: 'reservation' });
    const actions = await linksFor(run, NOW + 3_600_000).actionsFor(warning);
    expect(actions.map((a) => a.action)).not.toContain('stop-now');
  });

  it('offers nothing to the log, to other notices, or for a run no longer in grace', async () => {
    const links = linksFor(runOf({}), NOW + 3_600_000);
    const toTheLog: Notice = {
      kind: warning.kind,
      environment: 'dev',
      runId: 'run-1',
      text: '',
      at: NOW,
    };
    expect(await links.actionsFor(toTheLog)).toEqual([]);
    expect(await links.actionsFor({ ...warning, kind: 'run-summary' })).toEqual([]);
    const acted = linksFor(runOf({ status: 'acting' }), NOW + 3_600_000);
    expect(await acted.actionsFor(warning)).toEqual([]);
  });

  it('lets a stop that waits for its warning (require_notice) be called off past its time', async () => {
    const run = runOf({});
    const links = linksFor(run, NOW + 3_600_000);
    const [keep] = await links.actionsFor(warning);
    const claims = JSON.parse(Buffer.from(keep!.token.split('.')[0]!, 'base64url').toString()) as {
      e: number;
      c: string;
      r: string;
    };
    expect(claims).toMatchObject({ r: 'run-1', c: 'ops-mail', e: run.act_at + 3_600_000 });
    expect((await links.preview(keep!.token)).effect).toContain('keep it running until 19:00 UTC');
  });

  it('names the channel a followed link came through, never its secret', () => {
    const links = linksFor(runOf({}), undefined);
    const token = `${Buffer.from(JSON.stringify({ r: 'run-1', a: 'keep-1h', c: 'ops-mail', e: NOW })).toString('base64url')}.x`;
    expect(links.pageActor(token)).toBe('link from email to ops@example.com');
  });
});
