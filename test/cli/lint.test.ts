import { describe, expect, it } from 'vitest';
import { cli, configFile } from './run.js';

async function lint(text: string) {
  return cli(['lint', '--config', configFile(text)]);
}

const USED = (schedule: string) => `environments:\n  dev: { schedule: ${schedule} }\n`;

describe('lightsout lint warns about likely mistakes, with the fix, and exits 0', () => {
  it.each([
    [
      'EventBridge day-of-week written with numbers',
      `schedules:\n  s:\n    start: "cron(0 7 ? * 1-5 *)"\n    stop: "cron(0 19 ? * MON-FRI *)"\n${USED('s')}`,
      ':3:12: warning: schedules.s.start: day-of-week "1-5" counts from Sunday in EventBridge, so it means SUN-THU; if you meant MON-FRI, write MON-FRI',
    ],
    [
      'a 5-field day field that starts with * beside a restricted one',
      `schedules:\n  s:\n    start: "0 8 1-7 * */7"\n    stop: "0 19 * * *"\n${USED('s')}`,
      ':3:12: warning: schedules.s.start: day-of-week "*/7" starts with "*", so (as in Vixie cron) a day must match both day fields, not either; to fire on either, write it without the star: "0-7/7"',
    ],
    [
      'a secret written inline in a notifier (its value never printed)',
      `notifiers:\n  team:\n    type: slack\n    webhook_url: https://hooks.slack.com/services/T0/B0/s3cr3t\n`,
      'warning: notifiers.team.webhook_url: webhook_url is a secret written inline, so it goes wherever this file goes; write ${VARIABLE} or file:/path instead',
    ],
    [
      'notifiers without public_url, so warnings carry no action links',
      `notifiers:\n  team: { type: slack, webhook_url: '\${SLACK_URL}' }\n`,
      'warning: notifiers: warnings will carry no "keep running" or "stop now" links; set public_url',
    ],
    [
      "the Slack app's signing secret written inline (its value never printed)",
      `public_url: https://lightsout.example.com\nswitches:\n  slack:\n    signing_secret: 8f742231b10e8888abcd99yyyzzz85a5\n    users: [{ user: U024BE7LH, role: viewer }]\n`,
      'warning: switches.slack.signing_secret: signing_secret is a secret written inline, so it goes wherever this file goes; write ${VARIABLE} or file:/path instead',
    ],
    [
      'a schedule that is never on',
      `schedules:\n  s:\n    periods: [{ monthdays: 31, months: feb, start: "07:00", stop: "19:00" }]\n${USED('s')}`,
      'warning: schedules.s: this schedule is never on in the next 12 months',
    ],
    [
      'a schedule that is never off',
      `schedules:\n  s:\n    periods: [{ start: "00:00", stop: "24:00" }]\n${USED('s')}`,
      'warning: schedules.s: this schedule is never off in the next 12 months',
    ],
    [
      'start and stop that fire at the same instant',
      `schedules:\n  s:\n    start: "0 7 * * 1-5"\n    stop: "0 7,19 * * 1-5"\n${USED('s')}`,
      'warning: schedules.s.stop: start and stop both fire at 2026-06-01T07:00:00.000Z',
    ],
    [
      'a period whose stop equals its start',
      `schedules:\n  s:\n    periods: [{ days: mon, start: "07:00", stop: "07:00" }]\n${USED('s')}`,
      'warning: schedules.s.periods[0].stop: stop equals start (07:00), which lightsout reads as on for 24 hours',
    ],
    [
      'an environment with no schedule',
      'environments:\n  dev: { team: x }\n',
      ':2:3: warning: environments.dev: this environment has no schedule',
    ],
    [
      'a schedule nobody uses',
      `schedules:\n  s:\n    periods: [{ start: "07:00", stop: "19:00" }]\n  unused:\n    periods: [{ start: "07:00", stop: "19:00" }]\n${USED('s')}`,
      'warning: schedules.unused: no environment uses this schedule',
    ],
    [
      'a reservation already over',
      `environments:\n  dev: { team: x }\nreservations:\n  - { environment: dev, from: "2026-01-01T09:00", to: "2026-01-01T10:00" }\n`,
      'warning: reservations[0]: this reservation ended at 2026-01-01T10:00:00.000Z; remove it',
    ],
  ])('%s', async (_, text, warning) => {
    const result = await lint(text);
    expect(result.code).toBe(0);
    expect(result.out).toContain(warning);
  });

  it('a resource selected by two environments is an error naming both', async () => {
    const result = await lint(`environments:
  dev: { select: { provider: sandbox, tags: { team: a } } }
  qa: { select: { provider: sandbox, kinds: [ec2] } }
sandbox:
  resources:
    - { kind: ec2, name: shared-box, tags: { team: a } }
    - { kind: rds, name: dev-db, tags: { team: a } }
`);
    expect(result.code).toBe(1);
    expect(result.err).toContain(
      ':3:3: error: environments.qa: sandbox:ec2:shared-box is selected by environments dev and qa',
    );
    expect(result.err).not.toContain('dev-db');
  });

  it('EventBridge day names and # counts are not numeric days', async () => {
    const result = await lint(
      `schedules:\n  s:\n    start: "cron(0 7 ? * MON#1 *)"\n    stop: "cron(0 19 ? * MON#1 *)"\n${USED('s')}`,
    );
    expect(result.out).not.toContain('counts from Sunday');
  });

  it('never prints an inline secret it warns about', async () => {
    const result = await lint(
      `notifiers:\n  hook: { type: webhook, url: https://example.com/h, secret: s3cr3t-value }\n`,
    );
    expect(result.out).toContain('notifiers.hook.secret');
    expect(result.out + result.err).not.toContain('s3cr3t-value');
  });

  it('says so when there is nothing to warn about', async () => {
    const result = await lint(
      `schedules:\n  s:\n    periods: [{ days: mon-fri, start: "07:00", stop: "19:00" }]\n${USED('s')}`,
    );
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toMatch(/lightsout\.yaml: no problems found$/);
  });

  it('exits 1 on schema errors and counts them', async () => {
    const result = await lint('timezone: Nowhere/City\nschedules:\n  s: {}\n');
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/lightsout\.yaml: 2 errors$/);
  });

  it('finds nothing wrong in the worked example but its deliberate teaching cases', async () => {
    const result = await cli(['lint', '--config', 'examples/lightsout.yaml']);
    expect(result.code).toBe(0);
    expect(result.out).not.toContain('never');
  });
});

describe('lightsout lint on forward destinations', () => {
  const OK = `${USED('s')}schedules:\n  s:\n    periods: [{ days: mon-fri, start: "07:00", stop: "19:00" }]\n`;
  const TOPIC = 'arn:aws:sns:eu-west-3:123456789012:shared';

  it.each([
    [
      'a misspelt kind, with the nearest kind lightsout records',
      `forward:\n  - { type: sns, topic_arn: "${TOPIC}", kinds: [run.finshed] }\n`,
      ':7:82: warning: forward[0].kinds[0]: "run.finshed" matches no kind of event lightsout records, so it forwards nothing; did you mean "run.finished"? (docs/events.md lists every kind)',
    ],
    [
      'a glob that matches no kind',
      `forward:\n  - { type: eventbridge, bus: lightsout, region: eu-west-3, kinds: ["runs.*"] }\n`,
      'warning: forward[0].kinds[0]: "runs.*" matches no kind of event lightsout records, so it forwards nothing; check the glob (docs/events.md lists every kind)',
    ],
    [
      'a kind another entry of the same list already takes',
      `forward:\n  - { type: eventbridge, bus: lightsout, region: eu-west-3, kinds: [run.finished, "run.*"] }\n`,
      'warning: forward[0].kinds[0]: every kind "run.finished" matches is already forwarded by "run.*" (kinds[1]); remove one of them',
    ],
    [
      'the same kind twice',
      `forward:\n  - { type: sns, topic_arn: "${TOPIC}", kinds: ["*.failed", notice.sent, "*.failed"] }\n`,
      'warning: forward[0].kinds[2]: every kind "*.failed" matches is already forwarded by "*.failed" (kinds[0]); remove one of them',
    ],
    [
      'kinds: ["*"], which is leaving kinds out',
      `forward:\n  - { type: sns, topic_arn: "${TOPIC}", kinds: ["*"] }\n`,
      'warning: forward[0].kinds[0]: "*" matches every kind, as leaving kinds out does; remove kinds to forward everything',
    ],
    [
      'a topic an SNS hook reads its requests from',
      `public_url: https://lightsout.example.com\nswitches:\n  hooks:\n    button: { type: sns, topic_arn: "${TOPIC}", do: { action: stop, environment: dev } }\nforward:\n  - { type: sns, topic_arn: "${TOPIC}" }\n`,
      'warning: forward[0].topic_arn: the hook switches.hooks.button takes its requests from this topic, so every forwarded event would reach it as a request (with do:, each would start or stop an environment); forward to a topic of its own',
    ],
    [
      'a topic a notifier sends notices to',
      `public_url: https://lightsout.example.com\nnotifiers:\n  ops: { type: sns, topic_arn: "${TOPIC}" }\nforward:\n  - { type: sns, topic_arn: "${TOPIC}", kinds: ["run.*"] }\n`,
      'warning: forward[0].topic_arn: the notifier notifiers.ops sends its notices to this topic, so its subscribers (e-mail, SMS, chat) would get every forwarded event as JSON too; forward to a topic of its own',
    ],
  ])('%s', async (_, text, warning) => {
    const result = await lint(OK + text);
    expect(result.code).toBe(0);
    expect(result.out).toContain(warning);
    expect(result.out).toMatch(/lightsout\.yaml: 1 warning$/);
  });

  it('finds nothing wrong in destinations whose kinds each forward something of their own', async () => {
    const result = await lint(`${OK}notifiers:
  ops: { type: sns, topic_arn: "arn:aws:sns:eu-west-3:123456789012:ops" }
public_url: https://lightsout.example.com
forward:
  - { type: eventbridge, bus: lightsout, region: eu-west-3, kinds: ["run.*", "*.failed", drift.detected] }
  - { type: sns, topic_arn: "arn:aws:sns:eu-west-3:123456789012:events" }
`);
    expect(result).toMatchObject({ code: 0, err: '' });
    expect(result.out).toMatch(/lightsout\.yaml: no problems found$/);
  });
});
