/**
 * What notices say, in every channel: a warning's time in the environment's zone
 * and in UTC, the kinds it stops, why and by whom, how to cancel without links (or
 * the links as buttons); a report's resources with durations and the provider's
 * reasons, failures first and cut at REPORT_LIMIT; failure alerts.
 */
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { countKinds, kindsText, whyText } from '../../src/core/notice-words.js';
import { durationText, whenText } from '../../src/core/time-text.js';
import type { StepSummary } from '../../src/engine/executor.js';
import {
  failureAlert,
  REPORT_LIMIT,
  reportDetails,
  warningBody,
} from '../../src/engine/notice-bodies.js';
import type { Notice } from '../../src/engine/ports.js';
import type { Run } from '../../src/store/queries/runs.js';
import { emailHtml, emailText, noticeActions } from '../../src/notify/email.js';
import { googleChatMessage } from '../../src/notify/google-chat.js';
import { render } from '../../src/notify/render.js';
import { slackMessage } from '../../src/notify/slack.js';
import { SnsChannel } from '../../src/notify/sns.js';
import { teamsMessage } from '../../src/notify/teams.js';
import { webhookPayload } from '../../src/notify/webhook.js';
import { at } from '../helpers.js';
import { scheduledStop } from '../support/runs.js';

const paris = { name: 'dev', timezone: 'Europe/Paris', team: 'payments', schedule: 'office-hours' };

const runOf = (fields: Partial<Run>): Run => scheduledStop(at('2026-06-01T15:45Z'), fields);

/** A warning as the engine records it and the delivery hands it to a channel. */
function warningNotice(run: Run, actions?: unknown[]): Notice {
  const { text, ...details } = warningBody(
    paris,
    run,
    at('2026-06-02T16:00Z'),
    { kinds: countKinds(['ec2', 'rds', 'ec2', 'ec2']) },
    at('2026-06-01T15:45Z'),
  ) as { text: string } & Record<string, unknown>;
  return {
    kind: 'stop-warning',
    environment: 'dev',
    team: 'payments',
    runId: run.id,
    text,
    at: at('2026-06-01T15:45Z'),
    details: { ...details, ...(actions === undefined ? {} : { actions }) },
  };
}

const ACTIONS = [
  {
    action: 'keep-1h',
    label: 'Keep running 1 h',
    url: 'https://lightsout.example/actions/tok1',
    token: 'tok1',
  },
  {
    action: 'stop-now',
    label: 'Stop now',
    url: 'https://lightsout.example/actions/tok2',
    token: 'tok2',
  },
];

/** Every text a person could read of a notice, across the channels. */
function everyChannel(notice: Notice): Record<string, string> {
  const rendered = render(notice);
  return {
    slack: JSON.stringify(slackMessage(notice)),
    emailText: emailText(rendered, noticeActions(notice)),
    emailHtml: emailHtml(rendered, noticeActions(notice)),
    teams: JSON.stringify(teamsMessage(notice)),
    googleChat: JSON.stringify(googleChatMessage(notice)),
    webhook: JSON.stringify(webhookPayload(notice)),
  };
}

describe('the words', () => {
  it('says when in the zone and in UTC, with the day when it is not today', () => {
    const now = at('2026-06-01T12:00Z');
    expect(whenText(at('2026-06-01T16:00Z'), 'Europe/Paris', now)).toBe(
      '18:00 Europe/Paris (16:00 UTC)',
    );
    expect(whenText(at('2026-06-02T16:00Z'), 'Europe/Paris', now)).toBe(
      'Tue 2 Jun 18:00 Europe/Paris (16:00 UTC)',
    );
    expect(whenText(at('2026-06-01T18:00Z'), 'UTC', now)).toBe('18:00 UTC');
  });

  it('counts the kinds, most first, in words', () => {
    expect(kindsText(countKinds(['rds', 'ec2', 'ec2', 'ec2']))).toBe(
      '3 EC2 instances, 1 RDS database',
    );
    expect(kindsText(countKinds(['asg', 'ecs', 'ecs']))).toBe(
      '2 ECS services, 1 Auto Scaling group',
    );
    expect(kindsText({})).toBe('resources not listed yet (found when it acts)');
  });

  it('says why: the schedule by name, an ad-hoc stop by whom, the end of a reservation by whom', () => {
    const cause = { direction: 'stop', actor: 'scheduler', schedule: 'office-hours' };
    expect(whyText({ ...cause, trigger: 'schedule' })).toBe('schedule "office-hours"');
    expect(whyText({ ...cause, trigger: 'adhoc', actor: 'slack:U123 (alice)' })).toBe(
      'ad-hoc stop by slack:U123 (alice)',
    );
    expect(
      whyText({
        ...cause,
        trigger: 'schedule',
        planned: { kind: 'reservation-end', actor: 'api:alice' },
      }),
    ).toBe('the end of a reservation by api:alice');
    expect(
      whyText({ ...cause, trigger: 'catch-up', planned: { kind: 'hold-off', actor: 'bob' } }),
    ).toBe('a hold-off by bob');
    expect(whyText({ ...cause, trigger: 'auto-restart' })).toBe(
      'a database started by itself while off',
    );
  });

  it('writes durations people read', () => {
    expect(durationText(850)).toBe('850 ms');
    expect(durationText(45_000)).toBe('45 s');
    expect(durationText(125_000)).toBe('2 min 5 s');
    expect(durationText(3_780_000)).toBe('1 h 3 min');
  });
});

describe('the shutdown warning', () => {
  it('says environment, team, when in both zones, the kinds, and why, in every channel', () => {
    const notice = warningNotice(runOf({}));
    expect(notice.text).toBe(
      'dev stops at 18:00 Europe/Paris (16:00 UTC): 3 EC2 instances, 1 RDS database. Why: schedule "office-hours".',
    );
    const facts = Object.fromEntries(render(notice).facts.map((f) => [f.label, f.value]));
    expect(facts).toMatchObject({
      Environment: 'dev',
      Team: 'payments',
      'Stops at': '18:00 Europe/Paris (16:00 UTC)',
      What: '3 EC2 instances, 1 RDS database',
      Why: 'schedule "office-hours"',
      'Cancelling keeps it on until': 'Tue 2 Jun 18:00 Europe/Paris (16:00 UTC)',
    });
    for (const [channel, body] of Object.entries(everyChannel(notice))) {
      expect(body, channel).toContain('18:00 Europe/Paris (16:00 UTC)');
      expect(body, channel).toContain('3 EC2 instances, 1 RDS database');
      expect(body, channel).toContain('payments');
    }
  });

  it('says who asked for an ad-hoc stop', () => {
    const notice = warningNotice(runOf({ trigger: 'adhoc', actor: 'api:bob' }));
    expect(notice.text).toContain('Why: ad-hoc stop by api:bob.');
  });

  it('without action links, says how to cancel from the CLI and the API, in every channel', () => {
    const notice = warningNotice(runOf({}));
    for (const [channel, body] of Object.entries(everyChannel(notice))) {
      if (channel === 'webhook') {
        expect(webhookPayload(notice).details['cancel']).toEqual({
          cli: 'lightsout cancel run-1 --config FILE',
          api: 'POST /api/v1/runs/run-1/cancel',
        });
        continue;
      }
      expect(body, channel).toContain('lightsout cancel run-1 --config FILE');
      expect(body, channel).toContain('POST /api/v1/runs/run-1/cancel');
    }
  });

  it('with action links, shows them as buttons instead of the CLI hint', () => {
    const notice = warningNotice(runOf({}), ACTIONS);
    expect(render(notice).facts.map((f) => f.label)).not.toContain('To cancel');
    const card = teamsMessage(notice) as {
      attachments: { content: { actions: unknown[] } }[];
    };
    expect(card.attachments[0]!.content.actions).toEqual([
      {
        type: 'Action.OpenUrl',
        title: 'Keep running 1 h',
        url: 'https://lightsout.example/actions/tok1',
      },
      { type: 'Action.OpenUrl', title: 'Stop now', url: 'https://lightsout.example/actions/tok2' },
    ]);
    const chat = JSON.stringify(googleChatMessage(notice));
    expect(chat).toContain(
      JSON.stringify({
        buttonList: {
          buttons: [
            {
              text: 'Keep running 1 h',
              onClick: { openLink: { url: 'https://lightsout.example/actions/tok1' } },
            },
            {
              text: 'Stop now',
              onClick: { openLink: { url: 'https://lightsout.example/actions/tok2' } },
            },
          ],
        },
      }),
    );
    const slack = JSON.stringify(slackMessage(notice));
    expect(slack).toContain('https://lightsout.example/actions/tok2');
    expect(emailText(render(notice), noticeActions(notice))).toContain(
      'Stop now: https://lightsout.example/actions/tok2',
    );
  });

  it('offers no link that is not http(s)', () => {
    const notice = warningNotice(runOf({}), [
      { label: 'Evil', url: 'javascript:alert(1)', action: 'stop-now', token: 't' },
    ]);
    expect(render(notice).actions).toEqual([]);
    expect(JSON.stringify(teamsMessage(notice))).not.toContain('javascript:');
    expect(JSON.stringify(googleChatMessage(notice))).not.toContain('javascript:');
  });
});

function steps(failed: number, done: number): StepSummary[] {
  const failures = Array.from({ length: failed }, (_, i) => ({
    resource: `sandbox:rds:db-${i}`,
    tier: 'data',
    status: 'failed' as const,
    attempts: 3,
    durationMs: 61_000,
    error: 'InvalidDBInstanceState: Instance db-' + String(i) + ' is not in available state',
  }));
  const fine = Array.from({ length: done }, (_, i) => ({
    resource: `sandbox:ec2:web-${i}`,
    tier: 'apps',
    status: 'done' as const,
    attempts: 1,
    durationMs: 45_000,
  }));
  // In run order the failures come last: the report brings them first.
  return [...fine, ...failures];
}

function reportNotice(resources: StepSummary[]): Notice {
  const run = runOf({ status: 'failed' });
  const failures = resources.filter((r) => r.status === 'failed');
  const end = {
    environment: 'dev',
    direction: 'stop' as const,
    outcome: failures.length === 0 ? ('succeeded' as const) : ('failed' as const),
    durationMs: 125_000,
    counts: { done: resources.length - failures.length, failed: failures.length },
    resources,
    failures,
  };
  return {
    kind: 'run-summary',
    environment: 'dev',
    runId: run.id,
    text: 'dev: stop failed',
    at: 0,
    details: reportDetails(run, end, end.outcome, (id) => id.split(':')[1]!),
  };
}

describe('the run report', () => {
  it('lists each resource with its kind, tier, status, attempts and duration, and the provider reason', () => {
    const notice = reportNotice(steps(1, 2));
    const { lines, facts } = render(notice);
    expect(lines).toEqual([
      'sandbox:rds:db-0 (RDS database, tier data): failed, 3 attempts, 1 min 1 s — InvalidDBInstanceState: Instance db-0 is not in available state',
      'sandbox:ec2:web-0 (EC2 instance, tier apps): done, 1 attempt, 45 s',
      'sandbox:ec2:web-1 (EC2 instance, tier apps): done, 1 attempt, 45 s',
    ]);
    expect(facts).toContainEqual({ label: 'Took', value: '2 min 5 s' });
    for (const [channel, body] of Object.entries(everyChannel(notice)))
      expect(body, channel).toContain(
        'InvalidDBInstanceState: Instance db-0 is not in available state',
      );
  });

  it(`in a big run, lists failures first and at most ${REPORT_LIMIT} resources, then how to see all`, () => {
    const notice = reportNotice(steps(3, 40));
    const { lines } = render(notice);
    expect(lines).toHaveLength(REPORT_LIMIT + 1);
    expect(lines.slice(0, 3).every((l) => l.includes(': failed,'))).toBe(true);
    expect(lines.at(-1)).toBe(
      'and 23 more: GET /api/v1/runs/run-1, or lightsout events --env dev --kind run.finished --config FILE',
    );
    expect(notice.details?.['total']).toBe(43);
  });
});

describe('the run report in Slack', () => {
  it('splits a long list into sections of whole lines, so "and N more" is never cut off', () => {
    const long = steps(20, 30).map((s) =>
      s.error === undefined ? s : { ...s, error: `${s.error} ${'x'.repeat(300)}` },
    );
    const { blocks } = slackMessage(reportNotice(long));
    const sections = blocks
      .filter((b) => b.type === 'section' && 'text' in b && b.text.text.startsWith('• '))
      .map((b) => (b as { text: { text: string } }).text.text);
    expect(sections.length).toBeGreaterThan(1);
    expect(sections.every((t) => t.length <= 3000)).toBe(true);
    expect(sections.join('\n').split('\n')).toHaveLength(REPORT_LIMIT + 1);
    expect(sections.at(-1)).toContain('and 30 more: GET /api/v1/runs/run-1');
  });
});

describe('the failure alert', () => {
  it('says how many did not reach the state, each with its reason, and when it is tried again', () => {
    const resources = steps(2, 3);
    const failures = resources.filter((r) => r.status === 'failed');
    const run = runOf({ status: 'failed' });
    const body = failureAlert(
      run,
      {
        environment: 'dev',
        direction: 'stop',
        outcome: 'failed',
        durationMs: 1,
        counts: {},
        resources,
        failures,
      },
      (id) => id.split(':')[1]!,
      at('2026-06-01T16:01Z'),
      paris,
      at('2026-06-01T16:00:30Z'),
    ) as { text: string; details: Record<string, unknown> };
    expect(body.text).toBe('dev: stop failed: 2 of 5 resources did not reach off');
    const notice: Notice = {
      kind: 'run-failed',
      environment: 'dev',
      runId: run.id,
      text: body.text,
      at: 0,
      details: body.details,
    };
    const rendered = render(notice);
    expect(rendered.title).toBe('dev: a run failed');
    expect(rendered.facts).toContainEqual({
      label: 'Tried again at',
      value: '18:01 Europe/Paris (16:01 UTC)',
    });
    expect(rendered.lines).toHaveLength(2);
    expect(rendered.lines[1]).toContain('InvalidDBInstanceState: Instance db-1');
  });
});

describe('through SNS', () => {
  const sns = mockClient(SNSClient);
  /** The Message of the Publish the channel makes for `notice`. */
  const published = async (notice: Notice) => {
    sns.reset();
    sns.on(PublishCommand).resolves({ MessageId: 'm-1' });
    await new SnsChannel({
      name: 'topic',
      topicArn: 'arn:aws:sns:eu-west-3:123456789012:lightsout',
      client: new SNSClient({ region: 'eu-west-3' }),
    }).send(notice);
    return sns.commandCalls(PublishCommand)[0]!.args[0].input.Message!;
  };

  it("publishes a warning's time, kinds and CLI and API hint, and a report's lines with their reasons", async () => {
    const warning = await published(warningNotice(runOf({})));
    expect(warning).toContain('Stops at: 18:00 Europe/Paris (16:00 UTC)');
    expect(warning).toContain('What: 3 EC2 instances, 1 RDS database');
    expect(warning).toContain(
      'To cancel: lightsout cancel run-1 --config FILE, or POST /api/v1/runs/run-1/cancel',
    );
    const report = await published(reportNotice(steps(1, 1)));
    expect(report).toContain(
      '- sandbox:rds:db-0 (RDS database, tier data): failed, 3 attempts, 1 min 1 s — InvalidDBInstanceState',
    );
  });
});
