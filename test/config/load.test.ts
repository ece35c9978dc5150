import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { isPair, isScalar, isSeq, parseDocument, visit } from 'yaml';
import { formatDiagnostic, parseConfig } from '../../src/config/load.js';
import { at } from '../helpers.js';

const load = (text: string) => parseConfig(text, 'lightsout.yaml');

function errors(text: string): string[] {
  const result = load(text);
  if (result.ok) throw new Error('expected the config to be refused');
  return result.diagnostics.map(formatDiagnostic);
}

const VALID = `
timezone: Europe/Paris
schedules:
  office-hours:
    periods:
      - { days: mon-fri, start: "07:00", stop: "19:00" }
environments:
  dev: { schedule: office-hours, team: payments }
`;

describe('a valid config', () => {
  it('loads the worked example', () => {
    const result = parseConfig(
      readFileSync('examples/lightsout.yaml', 'utf8'),
      'examples/lightsout.yaml',
    );
    if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
    expect(result.config.fleet.environments.map((e) => e.name)).toEqual([
      'dev',
      'staging',
      'batch',
      'qa',
      'demo',
    ]);
  });

  it('gives schedules the default zone and environments the zone of their schedule', () => {
    const ok = load(`
timezone: Europe/Paris
schedules:
  local: { periods: [{ start: "07:00", stop: "19:00" }] }
  late: { timezone: America/New_York, periods: [{ start: "22:00", stop: "02:00" }] }
environments:
  dev: { schedule: local }
  ny: { schedule: late }
  tokyo: { timezone: Asia/Tokyo }
`);
    if (!ok.ok) throw new Error(ok.diagnostics.map(formatDiagnostic).join('\n'));
    expect(ok.config.fleet.schedules.get('local')?.timezone).toBe('Europe/Paris');
    expect(ok.config.fleet.environments.map((e) => e.timezone)).toEqual([
      'Europe/Paris',
      'America/New_York',
      'Asia/Tokyo',
    ]);
  });

  it('reads reservation times in the environment zone unless they carry an offset', () => {
    const result = load(`${VALID}
reservations:
  - { environment: dev, from: "2026-12-26T09:00", to: "2026-12-26T12:00Z" }
holds:
  - { environment: dev, state: off, until: "2027-01-04" }
`);
    if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
    expect(result.config.fleet.reservations).toEqual([
      { environment: 'dev', from: at('2026-12-26T08:00Z'), to: at('2026-12-26T12:00Z') },
    ]);
    expect(result.config.fleet.holds).toEqual([
      { environment: 'dev', state: 'off', until: at('2027-01-03T23:00Z') },
    ]);
  });

  it('expands date ranges and accepts holidays in the except list', () => {
    const result = load(`
schedules:
  s:
    periods: [{ start: "07:00", stop: "19:00" }]
    except: [2026-12-25, "2026-12-31..2027-01-02", { holidays: [FR, DE-BY] }]
environments:
  dev: { schedule: s }
`);
    if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
    expect(result.config.fleet.schedules.get('s')?.except).toEqual({
      dates: ['2026-12-25', '2026-12-31', '2027-01-01', '2027-01-02'],
      holidays: ['FR', 'DE-BY'],
    });
  });
});

describe('environments with tiers and the sandbox fleet', () => {
  it('reads mode, grace, on_failure and tiers, with defaults', () => {
    const result = load(`
environments:
  dev:
    mode: enforce
    grace: 90s
    on_failure: continue
    tiers:
      - { name: data, select: { provider: sandbox, kinds: [rds], tags: { env: dev } } }
      - { name: apps, select: [{ provider: sandbox, kinds: [ec2, asg] }, { provider: sandbox, kinds: [ecs], tags: { tier: 2 } }] }
  qa:
    select: { provider: sandbox, tags: { env: qa } }
sandbox:
  latency: 20ms
  resources:
    - { kind: ecs, name: api, capacity: 3 }
`);
    if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
    const [dev, qa] = result.config.fleet.environments;
    expect(dev).toMatchObject({ mode: 'enforce', graceMs: 90_000, onFailure: 'continue' });
    expect(dev?.tiers?.map((t) => t.name)).toEqual(['data', 'apps']);
    expect(dev?.tiers?.[1]?.select[1]).toEqual({
      provider: 'sandbox',
      kinds: ['ecs'],
      tags: { tier: '2' },
    });
    expect(qa).toMatchObject({
      mode: 'transitions',
      graceMs: 900_000,
      onFailure: 'halt',
      tiers: [{ name: 'default', select: [{ provider: 'sandbox', tags: { env: 'qa' } }] }],
    });
    expect(result.config.document.sandbox).toEqual({
      latency: 20,
      resources: [{ kind: 'ecs', name: 'api', tags: {}, state: 'on', capacity: 3 }],
    });
  });

  it.each([
    [
      'grace: soon',
      'environments.dev.grace: "soon" is not a duration; write one such as 15m, 90s, 1h or 0',
    ],
    [
      'grace: ""',
      'environments.dev.grace: "" is not a duration; write one such as 15m, 90s, 1h or 0',
    ],
    [
      'mode: always',
      'environments.dev.mode: mode is transitions (act at transitions only) or enforce',
    ],
    [
      'select: { provider: vmware }',
      'environments.dev.select.provider: provider is one of sandbox, command, aws',
    ],
    [
      'select: { provider: sandbox, kinds: [lambda] }',
      'environments.dev.select.kinds[0]: sandbox kinds are ec2, asg, rds, ecs',
    ],
    [
      'select: { provider: sandbox }\n    tiers: [{ name: a, select: { provider: sandbox } }]',
      'environments.dev.select: give either tiers or select, not both',
    ],
    [
      'select: { provider: aws, regions: [eu-west-3], tags: { a: b }, kinds: [lambda] }',
      'environments.dev.select.kinds[0]: AWS kinds are ec2, asg, rds, aurora, ecs, stack',
    ],
    [
      'select: { provider: aws, regions: [eu-west-3], tags: { a: b }, account: 1234 }',
      'environments.dev.select.account: write the account id as 12 digits, in quotes: "123456789012"',
    ],
    [
      'select: { provider: aws, regions: [eu-west-3], tags: { a: b }, role: lightsout }',
      'environments.dev.select.role: write the role as an IAM role ARN, e.g. arn:aws:iam::123456789012:role/lightsout',
    ],
    [
      'select: { provider: aws, regions: [eu-west-3], tags: { a: b }, account: "111111111111", role: "arn:aws:iam::222222222222:role/x" }',
      'environments.dev.select.role: the role is in account 222222222222, not 111111111111; use a role in the account to act in',
    ],
    [
      'select: { provider: aws, regions: [eu-west-3], tags: { a: b }, external_id: abc }',
      'environments.dev.select.external_id: external_id goes with role: name the role to assume',
    ],
  ])('refuses %s', (line, message) => {
    expect(errors(`environments:\n  dev:\n    ${line}\n`).join('\n')).toContain(message);
  });
});

describe('an AWS selector', () => {
  it('carries regions, kinds, tags, account, role, external id and options into its settings', () => {
    const result = load(`
environments:
  dev:
    select:
      provider: aws
      account: "123456789012"
      role: arn:aws:iam::123456789012:role/lightsout
      external_id: shared-secret
      regions: [eu-west-3, us-east-1]
      kinds: [rds, aurora, ecs, stack]
      tags: { Scheduled: OfficeHours }
      last_action_tags: true
`);
    if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
    expect(result.config.fleet.environments[0]?.tiers?.[0]?.select[0]).toEqual({
      provider: 'aws',
      kinds: ['rds', 'aurora', 'ecs', 'stack'],
      tags: { Scheduled: 'OfficeHours' },
      settings: {
        regions: ['eu-west-3', 'us-east-1'],
        account: '123456789012',
        role: 'arn:aws:iam::123456789012:role/lightsout',
        externalId: 'shared-secret',
        hibernate: false,
        alarms: true,
        lastActionTags: true,
      },
    });
  });
});

describe('an invalid config is refused with file, line, column, path and the fix', () => {
  it.each([
    [
      'an unknown time zone',
      'timezone: Europe/Pariss\n',
      'lightsout.yaml:1:11: error: timezone: "Europe/Pariss" is not an IANA time zone; write a name such as Europe/Paris',
    ],
    [
      'a misspelt key',
      'schedules:\n  s:\n    periods:\n      - { days: mon, strat: "07:00", stop: "19:00" }\n',
      'lightsout.yaml:4:22: error: schedules.s.periods[0].strat: unknown key "strat"; did you mean "start"?',
    ],
    [
      'a missing stop',
      'schedules:\n  s:\n    periods:\n      - { days: mon, start: "07:00" }\n',
      'lightsout.yaml:4:9: error: schedules.s.periods[0].stop: "stop" is missing; add it',
    ],
    [
      'a bad time',
      'schedules:\n  s:\n    periods: [{ start: "7h", stop: "19:00" }]\n',
      'schedules.s.periods[0].start: "7h" is not a time of day; write "HH:MM"',
    ],
    [
      'a bad day',
      'schedules:\n  s:\n    periods: [{ days: mon-fry, start: "07:00", stop: "19:00" }]\n',
      '"mon-fry" is not a range of days; write days as mon..sun',
    ],
    [
      'a bad month',
      'schedules:\n  s:\n    periods: [{ months: foo, start: "07:00", stop: "19:00" }]\n',
      '"foo" is not a month; write months as jan..dec',
    ],
    [
      'a bad monthday',
      'schedules:\n  s:\n    periods: [{ monthdays: 32, start: "07:00", stop: "19:00" }]\n',
      '"32" is not a day of the month',
    ],
    [
      'rate()',
      'schedules:\n  s:\n    start: rate(1 hour)\n    stop: "0 19 * * *"\n',
      'lightsout.yaml:3:12: error: schedules.s.start: rate(1 hour) repeats at a fixed interval',
    ],
    [
      'a start without a stop',
      'schedules:\n  s:\n    start: "0 7 * * *"\n',
      'schedules.s.stop: a schedule with expressions needs both start and stop; add stop',
    ],
    [
      'periods and expressions together',
      'schedules:\n  s:\n    start: "0 7 * * *"\n    stop: "0 19 * * *"\n    periods: [{ start: "07:00", stop: "19:00" }]\n',
      'either periods or start/stop expressions, not both',
    ],
    ['an empty schedule', 'schedules:\n  s: {}\n', 'schedules.s: a schedule needs periods'],
    [
      'a date that does not exist',
      'schedules:\n  s:\n    periods: [{ start: "07:00", stop: "19:00" }]\n    except: [2026-02-30]\n',
      'schedules.s.except[0]: "2026-02-30" is not a date or a range of dates',
    ],
    [
      'a range backwards',
      'schedules:\n  s:\n    periods: [{ start: "07:00", stop: "19:00" }]\n    except: ["2027-01-02..2026-12-31"]\n',
      'ends before it starts; write it as "2026-12-31..2027-01-02"',
    ],
    [
      'an unknown holiday calendar',
      'schedules:\n  s:\n    periods: [{ start: "07:00", stop: "19:00" }]\n    except: { holidays: XX }\n',
      'schedules.s.except.holidays: "XX" is not a country or region with a holiday calendar',
    ],
    [
      'an unknown schedule',
      'environments:\n  dev: { schedule: office }\n',
      'lightsout.yaml:2:20: error: environments.dev.schedule: there is no schedule "office" (no schedules are defined)',
    ],
    [
      'an unknown environment in a reservation',
      `${VALID}reservations:\n  - { environment: prod, from: "2026-12-26T09:00", to: "2026-12-26T12:00" }\n`,
      'reservations[0].environment: there is no environment "prod" (known environments: dev)',
    ],
    [
      'a reservation that ends before it starts',
      `${VALID}reservations:\n  - { environment: dev, from: "2026-12-26T09:00", to: "2026-12-26T08:00" }\n`,
      'reservations[0].to: the reservation ends (2026-12-26T08:00) at or before it starts',
    ],
    [
      'a reservation time that is not a time',
      `${VALID}reservations:\n  - { environment: dev, from: "tomorrow", to: "2026-12-26T08:00" }\n`,
      'reservations[0].from: "tomorrow" is not a date and time',
    ],
    [
      'a hold state that is not on or off',
      `${VALID}holds:\n  - { environment: dev, state: paused, until: "2027-01-04" }\n`,
      'holds[0].state: a hold keeps an environment "on" or "off"',
    ],
    [
      'a number where a text belongs',
      `${VALID}  qa: { team: 42 }\n`,
      'environments.qa.team: expected a text, found number 42',
    ],
    [
      'a bad environment name',
      'environments:\n  "my env": {}\n',
      'environments.my env: environment names use letters, digits',
    ],
    ['broken YAML', 'schedules:\n  s: [\n', 'lightsout.yaml:3:1: error: '],
    [
      'a duplicate key',
      'timezone: UTC\ntimezone: UTC\n',
      'lightsout.yaml:2:1: error: Map keys must be unique',
    ],
    ['a list at the top', '- a\n', 'the config must be a mapping'],
    [
      'a misspelt key inside an except item',
      'schedules:\n  s:\n    periods: [{ start: "07:00", stop: "19:00" }]\n    except: [{ holiday: FR }]\n',
      'schedules.s.except[0].holiday: unknown key "holiday"; did you mean "holidays"?',
    ],
  ])('%s', (_, text, expected) => {
    expect(errors(text).join('\n')).toContain(expected);
  });

  it('reports every error at once, not only the first', () => {
    expect(
      errors(
        'timezone: Mars/Olympus\nschedules:\n  s:\n    periods: [{ start: "25:00", stop: "19:00" }]\n',
      ),
    ).toHaveLength(2);
  });
});

describe('an unknown key names the keys allowed in its own mapping', () => {
  const withSelector = (selector: string) =>
    `timezone: UTC\nschedules:\n  s:\n    periods: [{ start: "07:00", stop: "19:00" }]\nenvironments:\n  dev:\n    schedule: s\n    select: ${selector}\n`;

  it.each([
    [
      'an AWS selector',
      '{ provider: aws, region: [eu-west-3], tags: { a: b } }',
      'environments.dev.select.region: unknown key "region"; did you mean "regions"? Keys allowed here: provider, regions, kinds, tags, account, role, external_id, endpoint, hibernate, alarms, last_action_tags',
    ],
    [
      'an AWS selector in a list',
      '[{ provider: aws, regions: [eu-west-3], tags: { a: b }, endpiont: "http://x" }]',
      'environments.dev.select[0].endpiont: unknown key "endpiont"; did you mean "endpoint"? Keys allowed here: provider, regions, kinds, tags, account, role, external_id, endpoint, hibernate, alarms, last_action_tags',
    ],
    [
      'a sandbox selector',
      '{ provider: sandbox, kind: [ec2] }',
      'environments.dev.select.kind: unknown key "kind"; did you mean "kinds"? Keys allowed here: provider, kinds, tags',
    ],
    [
      'a command selector',
      '{ provider: command, target: {} }',
      'environments.dev.select.target: unknown key "target"; did you mean "targets"? Keys allowed here: provider, targets',
    ],
  ])('%s', (_, selector, expected) => {
    expect(errors(withSelector(selector))).toContainEqual(expect.stringContaining(expected));
  });

  it('in every mapping of the worked example, the hint lists at least the keys the mapping has', () => {
    const text = readFileSync('examples/lightsout.yaml', 'utf8');
    const document = parseDocument(text);
    const mappings: { path: (string | number)[]; keys: string[] }[] = [];
    visit(document, {
      Map(_, node, ancestors) {
        const path: (string | number)[] = [];
        for (const [index, ancestor] of ancestors.entries()) {
          const child = ancestors[index + 1] ?? node;
          if (isPair(ancestor) && isScalar(ancestor.key)) path.push(String(ancestor.key.value));
          if (isSeq(ancestor)) path.push(ancestor.items.indexOf(child));
        }
        mappings.push({
          path,
          keys: node.items.map((p) => String((p.key as { value: unknown }).value)),
        });
      },
    });
    let checked = 0;
    for (const { path, keys } of mappings) {
      const edited = parseDocument(text);
      edited.setIn([...path, 'zz_unknown'], 1);
      const message = errors(edited.toString()).find((e) => e.includes('"zz_unknown"'));
      // Mappings of names (schedules, tags, targets) take any key: no hint to check.
      if (message === undefined) continue;
      const allowed = /Keys allowed here: (.*)$/.exec(message)?.[1]?.split(', ');
      expect(allowed, message).toEqual(expect.arrayContaining(keys));
      checked++;
    }
    expect(checked).toBeGreaterThan(10);
  });
});

describe('notifiers', () => {
  const withNotifiers = (notifiers: string, notify = '[team-slack]') => `
environments:
  dev: { team: payments, notify: ${notify} }
notifiers:
${notifiers}
`;

  it('load each channel type, and environments name theirs', () => {
    const result = load(
      withNotifiers(
        `  team-slack: { type: slack, webhook_url: "\${SLACK_WEBHOOK_URL}" }
  bot: { type: slack, token: "file:/run/secrets/slack", channel: "#dev" }
  mail: { type: email, host: smtp.example.com, from: lightsout@example.com, to: ops@example.com, password: "file:/run/secrets/smtp" }
  topic: { type: sns, topic_arn: "arn:aws:sns:eu-west-3:123456789012:lightsout" }
  room: { type: teams, url: "\${TEAMS_URL}" }
  chat: { type: google-chat, url: "\${CHAT_URL}" }
  hook: { type: webhook, url: https://example.com/hook, secret: "\${HOOK_SECRET}" }`,
        '[team-slack, mail]',
      ),
    );
    if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
    expect(result.config.fleet.environments[0]?.notify).toEqual(['team-slack', 'mail']);
    expect(result.config.document.notifiers['mail']).toMatchObject({
      port: 587,
      security: 'starttls',
      to: ['ops@example.com'],
    });
  });

  it('an environment naming an unknown notifier is refused with the known ones', () => {
    expect(
      errors(withNotifiers('  team-slack: { type: slack, webhook_url: x }', '[team-slak]')).join(
        '\n',
      ),
    ).toContain('there is no notifier "team-slak" (known notifiers: team-slack)');
  });

  it.each([
    ['  x: { type: pager }', 'type is one of slack, email, sns, teams, google-chat, webhook'],
    [
      '  x: { type: slack, webhook_url: a, token: b, channel: c }',
      'give either webhook_url (an incoming webhook) or token and channel (a bot), not both',
    ],
    ['  x: { type: sns, topic_arn: lightsout }', 'write the topic ARN'],
    ['  x: { type: webhook, url: https://example.com }', 'secret'],
  ])('%s is refused: %s', (notifier, message) => {
    expect(errors(withNotifiers(notifier, '[]')).join('\n')).toContain(message);
  });

  it('require_notice waits notice_wait (default one hour) for a channel of the environment or its team', () => {
    const config = (environment: string, teams = '') => `
environments:
  dev: ${environment}
${teams}
notifiers:
  team-slack: { type: slack, webhook_url: "\${SLACK_WEBHOOK_URL}" }
`;
    const environmentOf = (text: string) => {
      const result = load(text);
      if (!result.ok) throw new Error(result.diagnostics.map(formatDiagnostic).join('\n'));
      return result.config.fleet.environments[0];
    };
    expect(
      environmentOf(config('{ notify: [team-slack], require_notice: true }'))?.requireNotice,
    ).toEqual({ waitMs: 3_600_000 });
    expect(
      environmentOf(
        config(
          '{ team: payments, require_notice: true, notice_wait: 20m }',
          'teams:\n  payments: { notify: [team-slack] }',
        ),
      )?.requireNotice,
    ).toEqual({ waitMs: 20 * 60_000 });
    expect(environmentOf(config('{ notify: [team-slack] }'))?.requireNotice).toBeUndefined();
  });

  it('require_notice without any channel to accept the warning is refused, naming the fix', () => {
    expect(
      errors(
        withNotifiers('  team-slack: { type: slack, webhook_url: x }', '[]').replace(
          'notify: []',
          'notify: [], require_notice: true',
        ),
      ).join('\n'),
    ).toMatch(/environments\.dev\.require_notice.*name one in notify/);
  });
});

describe('aws limits', () => {
  it("raise AWS's buckets for every account and for one", () => {
    const ok = load(`${VALID}
aws:
  limits:
    ec2:StopInstances: { burst: 100, per_second: 10 }
  accounts:
    '123456789012':
      limits:
        ec2:StartInstances:instances: { burst: 2000, per_second: 4 }
`);
    if (!ok.ok) throw new Error(ok.diagnostics.map(formatDiagnostic).join('\n'));
    expect(ok.config.document.aws).toEqual({
      all: { 'ec2:StopInstances': { burst: 100, perSecond: 10 } },
      accounts: {
        '123456789012': { 'ec2:StartInstances:instances': { burst: 2000, perSecond: 4 } },
      },
    });
  });

  it('default to none: AWS documented buckets apply', () => {
    const ok = load(VALID);
    if (!ok.ok) throw new Error(ok.diagnostics.map(formatDiagnostic).join('\n'));
    expect(ok.config.document.aws).toEqual({ all: {}, accounts: {} });
  });

  it('refuse an unknown bucket, a zero refill and an account that is not 12 digits, naming the field', () => {
    const found = errors(`${VALID}
aws:
  limits:
    ec2:RebootInstances: { burst: 10, per_second: 1 }
    rds:*: { burst: 300, per_second: 0 }
  accounts:
    '1234': { limits: {} }
`).join('\n');
    expect(found).toMatch(
      /aws\.limits\.ec2:RebootInstances: "ec2:RebootInstances" is not a bucket lightsout keeps; AWS buckets are ec2:Describe\*, ec2:StartInstances/,
    );
    expect(found).toMatch(/aws\.limits\.rds:\*\.per_second.*per_second is the refill per second/);
    expect(found).toMatch(/aws\.accounts.*12 digits/);
  });
});
