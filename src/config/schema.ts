/**
 * The shape of `lightsout.yaml`, version 1, validated with zod. Every message says
 * what is wrong and how to write it instead; the loader adds file, line and path.
 * Checks that need more than one field (names that refer to each other, local
 * times that need the environment's zone) live in fleet.ts.
 */
import ms from 'ms';
import { z } from 'zod';
import type { Expression, Period, Selector } from '../core/glossary.js';
import type { CommandTarget } from '../providers/command/command-line.js';
import { parseCommandLine } from '../providers/command/command-line.js';
import { AWS_BUCKET_NAMES } from '../providers/aws/buckets.js';
import type { AwsLimits } from '../providers/aws/buckets.js';
import type { Parsed } from '../core/glossary.js';
import { parseExpression } from '../core/expressions.js';
import { isKnownHolidayRegion } from '../core/holidays.js';
import { parseClock, parseDays, parseMonthdays, parseMonths } from '../core/period-fields.js';
import { datesBetween, isRealDate } from '../core/time-text.js';
import { isValidTimeZone } from '../core/zone.js';

/** Text that a core parser turns into a value or a readable error. */
function parsedBy<T>(parse: (text: string) => Parsed<T>) {
  return z.string().transform((input, ctx): T => {
    const parsed = parse(input);
    if (parsed.ok) return parsed.value;
    ctx.addIssue({ code: 'custom', message: parsed.error });
    return z.NEVER;
  });
}

/** A text field (YAML numbers read as text) parsed by a core parser. */
function parsedText<T>(parse: (text: string) => Parsed<T>) {
  return z.union([z.string(), z.number()]).transform(String).pipe(parsedBy(parse));
}

/** Like {@link parsedText}, also accepting a YAML list, read as a comma-separated list. */
function parsedList<T>(parse: (text: string) => Parsed<T>) {
  return z
    .union([z.string(), z.number(), z.array(z.union([z.string(), z.number()]))])
    .transform((input) => (Array.isArray(input) ? input.join(',') : String(input)))
    .pipe(parsedBy(parse));
}

export const timeZone = z.string().superRefine((zone, ctx) => {
  if (!isValidTimeZone(zone)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${zone}" is not an IANA time zone; write a name such as Europe/Paris, America/New_York or UTC`,
    });
  }
});

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const name = (what: string) =>
  z.string().regex(NAME, {
    message: `${what} names use letters, digits, ".", "_" and "-", and start with a letter or digit; rename it`,
  });

const period = z
  .strictObject({
    days: parsedList(parseDays).default('*'),
    months: parsedList(parseMonths).default('*'),
    monthdays: parsedList(parseMonthdays).default('*'),
    start: parsedText((text) => parseClock(text, false)),
    stop: parsedText((text) => parseClock(text, true)),
  })
  .transform((p): Period => p);

const expression = parsedText(parseExpression);

const dateOrRange = z.string().transform((text, ctx): string[] => {
  const [from = '', to = from, ...rest] = text.split('..').map((s) => s.trim());
  if (rest.length > 0 || !isRealDate(from) || !isRealDate(to)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${text}" is not a date or a range of dates; write "2026-12-25" or "2026-12-31..2027-01-01"`,
    });
    return z.NEVER;
  }
  if (to < from) {
    ctx.addIssue({
      code: 'custom',
      message: `the range "${text}" ends before it starts; write it as "${to}..${from}"`,
    });
    return z.NEVER;
  }
  return datesBetween(from, to);
});

const holidayRegion = z.string().superRefine((code, ctx) => {
  if (!isKnownHolidayRegion(code)) {
    ctx.addIssue({
      code: 'custom',
      message: `"${code}" is not a country or region with a holiday calendar; write an ISO country code such as FR or US, or country-region such as DE-BY or US-CA`,
    });
  }
});

const holidays = z.strictObject({
  holidays: z.union([holidayRegion, z.array(holidayRegion)]),
  dates: z.array(dateOrRange).default([]),
});

/** `except:` is a list of dates, ranges and `{ holidays: FR }`, or one `{ holidays, dates }` object. */
const except = z.union([holidays, z.array(z.union([dateOrRange, holidays]))]).transform((value) => {
  const items = Array.isArray(value) ? value : [value];
  const dates: string[] = [];
  const regions: string[] = [];
  for (const item of items) {
    if (Array.isArray(item)) {
      dates.push(...item);
    } else {
      regions.push(...[item.holidays].flat());
      dates.push(...item.dates.flat());
    }
  }
  return { dates: [...new Set(dates)].sort(), holidays: [...new Set(regions)] };
});

export const schedule = z
  .strictObject({
    description: z.string().optional(),
    timezone: timeZone.optional(),
    periods: z
      .array(period)
      .min(1, {
        message: 'list at least one period, e.g. { days: mon-fri, start: "07:00", stop: "19:00" }',
      })
      .optional(),
    start: expression.optional(),
    stop: expression.optional(),
    except: except.optional(),
  })
  .superRefine((s, ctx) => {
    const hasExpressions = s.start !== undefined || s.stop !== undefined;
    if (s.periods !== undefined && hasExpressions) {
      ctx.addIssue({
        code: 'custom',
        message:
          'a schedule has either periods or start/stop expressions, not both; move one of them into a schedule of its own',
      });
    } else if (s.periods === undefined && !hasExpressions) {
      ctx.addIssue({
        code: 'custom',
        message:
          'a schedule needs periods (e.g. periods: [{ days: mon-fri, start: "07:00", stop: "19:00" }]) or both start and stop expressions',
      });
    } else if (hasExpressions && (s.start === undefined || s.stop === undefined)) {
      const missing = s.start === undefined ? 'start' : 'stop';
      ctx.addIssue({
        code: 'custom',
        path: [missing],
        message: `a schedule with expressions needs both start and stop; add ${missing}, e.g. ${missing}: "cron(0 ${missing === 'start' ? 7 : 19} ? * MON-FRI *)"`,
      });
    }
  });

/** `15m`, `90s`, `1h`, `0`: parsed by the ms library. */
export function parseDuration(text: string): Parsed<number> {
  const trimmed = text.trim();
  // ms() throws on empty text (and on text over 100 characters) rather than answering undefined.
  const value =
    trimmed === '0'
      ? 0
      : trimmed === '' || trimmed.length > 100
        ? undefined
        : ms(trimmed as ms.StringValue);
  // ms() answers undefined (typed number) for text it cannot read.
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    return { ok: false, error: `"${text}" is not a duration; write one such as 15m, 90s, 1h or 0` };
  }
  return { ok: true, value };
}

const duration = parsedText(parseDuration);

/** Events are kept 400 days unless the config says otherwise: over a year, for year-on-year. */
export const DEFAULT_RETENTION_MS = 400 * 86_400_000;
const MIN_RETENTION_MS = 86_400_000;

export const PROVIDERS = ['sandbox', 'command', 'aws'] as const;
const SANDBOX_KINDS = ['ec2', 'asg', 'rds', 'ecs'] as const;

const tagValues = z.record(
  z.string(),
  z.union([z.string(), z.number(), z.boolean()]).transform(String),
);

const sandboxSelector = z
  .strictObject({
    provider: z.literal('sandbox'),
    kinds: z
      .array(z.enum(SANDBOX_KINDS, { message: `sandbox kinds are ${SANDBOX_KINDS.join(', ')}` }))
      .optional(),
    tags: tagValues.optional(),
  })
  .transform((s): Selector => ({
    provider: s.provider,
    ...(s.kinds === undefined ? {} : { kinds: s.kinds }),
    ...(s.tags === undefined ? {} : { tags: s.tags }),
  }));

const commandTarget = z
  .strictObject({
    start: z.string().min(1),
    stop: z.string().min(1),
    status: z.string().min(1).optional(),
    running_when: z.string().optional(),
    timeout: duration.default(120_000),
    shell: z.boolean().default(false),
    env: z.record(z.string(), z.string()).default({}),
  })
  .superRefine((target, ctx) => {
    if (target.shell) return;
    for (const field of ['start', 'stop', 'status'] as const) {
      const command = target[field];
      if (command === undefined) continue;
      const parsed = parseCommandLine(command);
      if (!parsed.ok) ctx.addIssue({ code: 'custom', path: [field], message: parsed.error });
    }
  })
  .transform((t): CommandTarget => ({
    start: t.start,
    stop: t.stop,
    ...(t.status === undefined ? {} : { status: t.status }),
    ...(t.running_when === undefined ? {} : { runningWhen: t.running_when }),
    timeoutMs: t.timeout,
    shell: t.shell,
    env: t.env,
  }));

const commandSelector = z
  .strictObject({
    provider: z.literal('command'),
    targets: z
      .record(name('command target'), commandTarget)
      .refine((t) => Object.keys(t).length > 0, {
        message:
          'list at least one target, e.g. targets: { build-box: { start: "virsh start build-box", stop: "virsh shutdown build-box" } }',
      }),
  })
  .transform((s): Selector => ({
    provider: 'command',
    kinds: ['command'],
    settings: { targets: s.targets },
  }));

const AWS_KINDS = ['ec2', 'asg', 'rds', 'aurora', 'ecs', 'stack'] as const;
const AWS_REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const AWS_ACCOUNT = /^\d{12}$/;
const ROLE_ARN = /^arn:aws[a-z-]*:iam::(\d{12}):role\/[\w+=,.@/-]+$/;

const awsSelector = z
  .strictObject({
    provider: z.literal('aws'),
    regions: z
      .array(
        z.string().regex(AWS_REGION, {
          message: 'write an AWS region code such as eu-west-3 or us-east-1',
        }),
      )
      .min(1, { message: 'list at least one region, e.g. regions: [eu-west-3]' }),
    kinds: z
      .array(z.enum(AWS_KINDS, { message: `AWS kinds are ${AWS_KINDS.join(', ')}` }))
      .min(1, { message: `list at least one kind, e.g. kinds: [ec2]` })
      .default(['ec2']),
    tags: tagValues.refine((t) => Object.keys(t).length > 0, {
      message:
        'give at least one tag, e.g. tags: { Scheduled: OfficeHours }, so lightsout never takes a whole account',
    }),
    // A number is taken too, but YAML drops leading zeros, so the message asks for quotes.
    account: z
      .union([z.string(), z.number().transform(String)])
      .pipe(
        z.string().regex(AWS_ACCOUNT, {
          message: 'write the account id as 12 digits, in quotes: "123456789012"',
        }),
      )
      .optional(),
    role: z
      .string()
      .regex(ROLE_ARN, {
        message: 'write the role as an IAM role ARN, e.g. arn:aws:iam::123456789012:role/lightsout',
      })
      .optional(),
    external_id: z.string().min(2).max(1224).optional(),
    endpoint: z
      .url({ message: 'write the endpoint as a URL, e.g. http://127.0.0.1:4566' })
      .optional(),
    hibernate: z.boolean().default(false),
    alarms: z.boolean().default(true),
    last_action_tags: z.boolean().default(false),
  })
  .superRefine((s, ctx) => {
    const roleAccount = s.role === undefined ? undefined : ROLE_ARN.exec(s.role)?.[1];
    if (roleAccount !== undefined && s.account !== undefined && roleAccount !== s.account)
      ctx.addIssue({
        code: 'custom',
        path: ['role'],
        message: `the role is in account ${roleAccount}, not ${s.account}; use a role in the account to act in`,
      });
    if (s.external_id !== undefined && s.role === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['external_id'],
        message: 'external_id goes with role: name the role to assume',
      });
  })
  .transform((s): Selector => ({
    provider: 'aws',
    kinds: s.kinds,
    tags: s.tags,
    settings: {
      regions: s.regions,
      hibernate: s.hibernate,
      alarms: s.alarms,
      lastActionTags: s.last_action_tags,
      ...(s.endpoint === undefined ? {} : { endpoint: s.endpoint }),
      ...(s.account === undefined ? {} : { account: s.account }),
      ...(s.role === undefined ? {} : { role: s.role }),
      ...(s.external_id === undefined ? {} : { externalId: s.external_id }),
    },
  }));

/** The provider is checked first, so a wrong one gets its own message, then its selector's fields. */
const selector = z
  .looseObject({
    provider: z.enum(PROVIDERS, {
      message: `provider is one of ${PROVIDERS.join(', ')} (sandbox: a simulated EC2, ASG, RDS and ECS fleet; command: your own start/stop/status commands; aws: EC2, ASG, RDS, Aurora, ECS and CloudFormation by tags)`,
    }),
  })
  .pipe(z.discriminatedUnion('provider', [sandboxSelector, commandSelector, awsSelector]));

const selectors = z
  .union([selector, z.array(selector).min(1)])
  .transform((value) => [value].flat());

const tier = z.strictObject({ name: z.string().min(1), select: selectors });

/**
 * A secret in the config: `${VARIABLE}` (from the environment) or `file:/path`
 * (a mounted secret), resolved when the service starts (notify/secrets.ts). A
 * value written inline is accepted and `lint` warns about it.
 */
const secret = z.string().min(1, { message: 'give a value, e.g. ${SLACK_WEBHOOK_URL}' });

/**
 * Fields every notifier takes. `digest`: run reports to this channel are gathered
 * and sent at most once per this duration (for big fleets); warnings and failure
 * alerts never wait.
 */
const notifierCommon = {
  digest: duration
    .refine((d) => d >= 60_000 && d <= 24 * 3_600_000, {
      message: 'digest is between 1m and 24h, e.g. digest: 15m',
    })
    .optional(),
};

const slackNotifier = z
  .strictObject({
    ...notifierCommon,
    type: z.literal('slack'),
    webhook_url: secret.optional(),
    token: secret.optional(),
    channel: z.string().min(1).optional(),
  })
  .refine(
    (n) => (n.webhook_url !== undefined) !== (n.token !== undefined && n.channel !== undefined),
    {
      message:
        'give either webhook_url (an incoming webhook) or token and channel (a bot), not both',
    },
  );

const emailNotifier = z.strictObject({
  ...notifierCommon,
  type: z.literal('email'),
  host: z.string().min(1),
  port: z.number().int().min(1).max(65_535).default(587),
  security: z
    .enum(['starttls', 'tls', 'none'], {
      message: 'security is starttls (port 587), tls (port 465) or none (a local relay)',
    })
    .default('starttls'),
  username: secret.optional(),
  password: secret.optional(),
  from: z.string().min(3),
  to: z.union([z.string().min(3), z.array(z.string().min(3)).min(1)]).transform((v) => [v].flat()),
});

const snsNotifier = z.strictObject({
  ...notifierCommon,
  type: z.literal('sns'),
  topic_arn: z.string().regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+(\.fifo)?$/, {
    message: 'write the topic ARN, e.g. arn:aws:sns:eu-west-3:123456789012:lightsout',
  }),
  role_arn: z.string().optional(),
});

const webhookNotifier = z.strictObject({
  ...notifierCommon,
  type: z.enum(['teams', 'google-chat']),
  url: secret,
});

const signedWebhookNotifier = z.strictObject({
  ...notifierCommon,
  type: z.literal('webhook'),
  url: secret,
  secret,
});

const NOTIFIER_TYPES = ['slack', 'email', 'sns', 'teams', 'google-chat', 'webhook'] as const;

/** A channel notices go to; environments name theirs with `notify: [name, ...]`. */
const notifier = z
  .looseObject({
    type: z.enum(NOTIFIER_TYPES, { message: `type is one of ${NOTIFIER_TYPES.join(', ')}` }),
  })
  .pipe(
    z.discriminatedUnion('type', [
      slackNotifier,
      emailNotifier,
      snsNotifier,
      webhookNotifier,
      signedWebhookNotifier,
    ]),
  );

export type NotifierDocument = z.output<typeof notifier>;

const environment = z
  .strictObject({
    description: z.string().optional(),
    schedule: z.string().optional(),
    team: z.string().optional(),
    timezone: timeZone.optional(),
    mode: z
      .enum(['transitions', 'enforce'], {
        message: 'mode is transitions (act at transitions only) or enforce (also correct drift)',
      })
      .default('transitions'),
    grace: duration.default(15 * 60_000),
    max_reservation: duration.default(14 * 24 * 3_600_000),
    on_failure: z
      .enum(['halt', 'continue'], {
        message: 'on_failure is halt (stop at the failed tier) or continue',
      })
      .default('halt'),
    tiers: z.array(tier).min(1).optional(),
    select: selectors.optional(),
    /** Names of `notifiers` its warnings and run reports go to. */
    notify: z.array(z.string().min(1)).default([]),
    /** How savings are counted: a baseline schedule, and prices that override the table's. */
    savings: z
      .strictObject({
        /** The schedule the team followed before lightsout (default: always on). */
        baseline: z.string().min(1).optional(),
        /** USD per hour for each resource without a price of its own (command targets, say). */
        hourly: z.number().nonnegative().optional(),
        /** USD per hour by resource name. */
        resources: z.record(z.string().min(1), z.number().nonnegative()).optional(),
        /** A fraction off the price table (Savings Plans, an enterprise discount), e.g. 0.25. */
        discount: z
          .number()
          .min(0)
          .max(1, { message: 'discount is a fraction between 0 and 1, e.g. 0.25 for 25 %' })
          .optional(),
      })
      .optional(),
    /** A stop waits until one channel accepted its warning, at most `notice_wait` past its time. */
    require_notice: z.boolean().default(false),
    notice_wait: duration
      .refine((d) => d >= 60_000 && d <= 24 * 3_600_000, {
        message: 'notice_wait is between 1m and 24h, e.g. notice_wait: 1h',
      })
      .default(3_600_000),
  })
  .superRefine((e, ctx) => {
    if (e.tiers !== undefined && e.select !== undefined) {
      ctx.addIssue({
        code: 'custom',
        path: ['select'],
        message: 'give either tiers or select, not both; move this selector into a tier',
      });
    }
  });

const sandboxResource = z.strictObject({
  kind: z.enum(SANDBOX_KINDS, { message: `sandbox kinds are ${SANDBOX_KINDS.join(', ')}` }),
  name: name('sandbox resource'),
  tags: z
    .record(z.string(), z.union([z.string(), z.number(), z.boolean()]).transform(String))
    .default({}),
  state: z.enum(['on', 'off']).default('on'),
  capacity: z.number().int().min(1).optional(),
  /** The EC2 instance type (or RDS class) it stands for, so savings can size it. */
  type: z.string().min(1, { message: 'type is an instance type such as t3.medium' }).optional(),
});

/** One bucket's override: its burst and its refill per second. */
const bucketRate = z
  .strictObject({
    burst: z
      .number()
      .int()
      .min(1, { message: 'burst is a whole number of tokens, 1 or more, e.g. burst: 1000' }),
    per_second: z
      .number()
      .positive({ message: 'per_second is the refill per second, above 0, e.g. per_second: 2' }),
  })
  .transform((r) => ({ burst: r.burst, perSecond: r.per_second }));

const sandbox = z.strictObject({
  latency: duration.default(0),
  /**
   * A bucket for starting sandbox EC2 instances (a token each), like EC2's
   * StartInstances resource bucket: starts wait for its tokens, and lightsout
   * begins large starts early enough to be running by their instant.
   */
  start_bucket: bucketRate.optional(),
  resources: z.array(sandboxResource).default([]),
});

const reservation = z.strictObject({
  environment: z.string(),
  from: z.string(),
  to: z.string(),
  note: z.string().optional(),
});

const hold = z.strictObject({
  environment: z.string(),
  state: z.enum(['on', 'off'], {
    message: 'a hold keeps an environment "on" or "off"; write state: on or state: off',
  }),
  from: z.string().optional(),
  until: z.string(),
  note: z.string().optional(),
});

/** An OpenID Connect claim value that grants a role (and maybe limits it to a team). */
const oidcRule = z.strictObject({
  claim: z.string().min(1),
  value: z.union([z.string(), z.number(), z.boolean()]).transform(String),
  role: z.enum(['viewer', 'operator', 'admin'], { message: 'role is viewer, operator or admin' }),
  team: z.string().optional(),
});

/** Default and largest clock skew allowed when an OpenID Connect token's times are checked. */
export const OIDC_DEFAULT_CLOCK_SKEW = 60_000;
export const OIDC_MAX_CLOCK_SKEW = 5 * 60_000;

/** Hosts on which a plain-http issuer is allowed (an issuer in a test); anywhere else, HTTPS. */
export function isLoopbackUrl(url: string): boolean {
  const host = URL.parse(url)?.hostname ?? '';
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Sessions opened by signing in with OpenID Connect last this long at most. */
export const OIDC_MAX_SESSION_TTL = 12 * 3_600_000;
const OIDC_MIN_SESSION_TTL = 5 * 60_000;

/**
 * The dashboard's sign-in with OpenID Connect (authorization code with PKCE): this
 * service is a client of the issuer. The redirect URI is public_url +
 * /api/v1/session/oidc/callback. The client secret is named, never written:
 * `${VARIABLE}` or `file:/path` (a public client, PKCE alone, has none).
 */
const oidcSignIn = z.strictObject({
  client_id: z.string().min(1, { message: 'give the client id registered at the issuer' }),
  client_secret: z
    .string()
    .refine((v) => v.startsWith('file:') || /^\$\{[A-Za-z_][A-Za-z0-9_]*\}$/.test(v.trim()), {
      message:
        'client_secret is never written in the config: name an environment variable, e.g. client_secret: ${LIGHTSOUT_OIDC_CLIENT_SECRET}, or a file, file:/run/secrets/oidc',
    })
    .optional(),
  /** What the sign-in button says: "Sign in with NAME"; the issuer's host by default. */
  name: z.string().min(1).max(40, { message: 'name is at most 40 characters' }).optional(),
  scopes: z
    .array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/, { message: 'a scope is one word' }))
    .default(['openid', 'email', 'profile'])
    .refine((s) => s.includes('openid'), {
      message: 'scopes must include openid, e.g. scopes: [openid, email, profile]',
    }),
  session_ttl: duration
    .default(OIDC_MAX_SESSION_TTL)
    .refine((d) => d >= OIDC_MIN_SESSION_TTL && d <= OIDC_MAX_SESSION_TTL, {
      message: 'session_ttl is between 5m and 12h, e.g. session_ttl: 8h',
    }),
});

const oidc = z
  .strictObject({
    issuer: z.url({ message: 'write the issuer as a URL, e.g. https://login.example.com' }),
    audience: z.string().min(1),
    jwks_url: z.url().optional(),
    jwks_file: z.string().min(1).optional(),
    // How far the issuer's clock and ours may disagree when `exp` and `nbf` are
    // checked. Bounded: a large skew would keep an expired token alive.
    clock_skew: duration.default(OIDC_DEFAULT_CLOCK_SKEW).refine((d) => d <= OIDC_MAX_CLOCK_SKEW, {
      message: `clock_skew is at most ${OIDC_MAX_CLOCK_SKEW / 1000}s; fix the clocks (NTP) rather than widen it, e.g. clock_skew: 60s`,
    }),
    rules: z
      .array(oidcRule)
      .min(1, { message: 'give at least one rule mapping a claim to a role' }),
    sign_in: oidcSignIn.optional(),
  })
  .refine((o) => (o.jwks_url === undefined) !== (o.jwks_file === undefined), {
    message: 'give exactly one of jwks_url or jwks_file',
  })
  .refine(
    (o) => o.sign_in === undefined || o.issuer.startsWith('https:') || isLoopbackUrl(o.issuer),
    {
      path: ['issuer'],
      message:
        'the sign-in talks to the issuer over HTTPS only: write https://... (plain http is allowed on a loopback address such as 127.0.0.1 only, for tests)',
    },
  );

const api = z.strictObject({ oidc: oidc.optional() });

/** A team's defaults: the channels every environment of the team notifies, besides its own. */
const team = z.strictObject({ notify: z.array(z.string().min(1)).default([]) });

const ROLES = ['viewer', 'operator', 'admin'] as const;
const role = z.enum(ROLES, { message: 'role is viewer, operator or admin' });

/** Who a Slack user is to lightsout: matched by Slack user id, or by email (`*@example.com` for a domain). */
const slackUserRule = z
  .strictObject({
    user: z
      .string()
      .regex(/^[UW][A-Z0-9]+$/, { message: 'a Slack user id, e.g. U024BE7LH' })
      .optional(),
    email: z.string().min(3).optional(),
    role,
    team: z.string().optional(),
  })
  .refine((r) => (r.user === undefined) !== (r.email === undefined), {
    message: 'give either user (a Slack user id) or email (an address, or *@domain), not both',
  });

/** The Slack app: `/lightsout` slash command and the buttons of its messages. */
const slackApp = z.strictObject({
  signing_secret: secret,
  /** A bot token with users:read.email, to match users by email. */
  token: secret.optional(),
  users: z
    .array(slackUserRule)
    .min(1, { message: 'give at least one rule mapping Slack users to a role' }),
});

export const SWITCH_ACTIONS = ['start', 'stop', 'reserve', 'boost'] as const;

/** What a switch does: start, stop (after `grace`), reserve for `for`, boost for `for`. */
const switchAction = z
  .strictObject({
    action: z.enum(SWITCH_ACTIONS, { message: `action is one of ${SWITCH_ACTIONS.join(', ')}` }),
    environment: z.string().min(1),
    grace: duration.optional(),
    for: duration.optional(),
  })
  .superRefine((a, ctx) => {
    if ((a.action === 'reserve' || a.action === 'boost') && a.for === undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['for'],
        message: `${a.action} needs for, e.g. for: 2h`,
      });
    if (a.action !== 'stop' && a.grace !== undefined)
      ctx.addIssue({ code: 'custom', path: ['grace'], message: 'grace is for stop only' });
    if ((a.action === 'start' || a.action === 'stop') && a.for !== undefined)
      ctx.addIssue({ code: 'custom', path: ['for'], message: 'for is for reserve and boost only' });
  });

export type SwitchActionDocument = z.output<typeof switchAction>;

/**
 * How a hook's message picks its action: one fixed `do`, or the value of a field
 * of the JSON message (`field: clickType`, `when: { SINGLE: ..., DOUBLE: ... }`).
 */
const hookMapping = {
  do: switchAction.optional(),
  field: z.string().min(1).optional(),
  when: z.record(z.string(), switchAction).optional(),
};
const mapped = (h: { do?: unknown; field?: unknown; when?: unknown }) =>
  (h.do !== undefined) !== (h.field !== undefined && h.when !== undefined);
const MAPPING_MESSAGE = 'give either do (one action) or field and when (an action per value)';

/** `POST /hooks/NAME`: a body signed with HMAC-SHA256 over timestamp and body. */
const signedHook = z
  .strictObject({ type: z.literal('signed'), secret, ...hookMapping })
  .refine(mapped, { message: MAPPING_MESSAGE });

/** `POST /hooks/sns/NAME`: an SNS subscription; the topic's region decides the certificate host. */
const snsHook = z
  .strictObject({
    type: z.literal('sns'),
    topic_arn: z.string().regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+(\.fifo)?$/, {
      message: 'write the topic ARN, e.g. arn:aws:sns:eu-west-3:123456789012:buttons',
    }),
    ...hookMapping,
  })
  .refine(mapped, { message: MAPPING_MESSAGE });

const HOOK_TYPES = ['signed', 'sns'] as const;

const hook = z
  .looseObject({
    type: z.enum(HOOK_TYPES, { message: `type is one of ${HOOK_TYPES.join(', ')}` }),
  })
  .pipe(z.discriminatedUnion('type', [signedHook, snsHook]));

export type HookDocument = z.output<typeof hook>;
export type SlackAppDocument = z.output<typeof slackApp>;

/** Inbound switches: the Slack app and hooks that start, stop, reserve or boost. */
const switches = z.strictObject({
  slack: slackApp.optional(),
  hooks: z.record(name('hook'), hook).default({}),
});

export type OidcDocument = z.output<typeof oidc>;
export type OidcSignInDocument = z.output<typeof oidcSignIn>;

/** Event kinds a destination takes: names such as run.started, or globs where `*` stands for any characters (run.*). */
const forwardKinds = z
  .array(
    z.string().regex(/^[a-z*][a-z0-9_.*-]*$/, {
      message: 'write an event kind or a glob of kinds, e.g. run.* or environment.stopped',
    }),
  )
  .min(1, {
    message: 'list at least one kind or glob, e.g. kinds: ["run.*"], or leave kinds out for all',
  })
  .optional();

const EVENT_BUS_ARN = /^arn:aws[\w-]*:events:([a-z0-9-]+):\d{12}:event-bus\/[/.\-_A-Za-z0-9]+$/;
const forwardRole = z
  .string()
  .regex(ROLE_ARN, {
    message:
      'write role_arn as an IAM role ARN, e.g. arn:aws:iam::123456789012:role/lightsout-events',
  })
  .optional();

/** An EventBridge bus: PutEvents (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html). */
const eventBridgeForward = z
  .strictObject({
    type: z.literal('eventbridge'),
    // EventBusName takes a name or an ARN (1-1600 characters; names are [/.\-_A-Za-z0-9]+).
    bus: z.string().refine((b) => EVENT_BUS_ARN.test(b) || /^[/.\-_A-Za-z0-9]{1,256}$/.test(b), {
      message:
        'write the bus as its name (default, or e.g. lightsout) or its ARN, e.g. arn:aws:events:eu-west-3:123456789012:event-bus/lightsout',
    }),
    region: z.string().regex(AWS_REGION, {
      message: 'write an AWS region code such as eu-west-3 or us-east-1',
    }),
    role_arn: forwardRole,
    source: z
      .string()
      .min(1)
      .max(256)
      .refine((s) => !s.startsWith('aws.'), {
        message: 'sources beginning with aws. are reserved for AWS services; write e.g. lightsout',
      })
      .default('lightsout'),
    kinds: forwardKinds,
  })
  .superRefine((f, ctx) => {
    const arnRegion = EVENT_BUS_ARN.exec(f.bus)?.[1];
    if (arnRegion !== undefined && arnRegion !== f.region)
      ctx.addIssue({
        code: 'custom',
        path: ['region'],
        message: `the bus is in ${arnRegion}, not ${f.region}; write region: ${arnRegion}`,
      });
  });

/** An SNS topic: PublishBatch (https://docs.aws.amazon.com/sns/latest/api/API_PublishBatch.html). */
const snsForward = z.strictObject({
  type: z.literal('sns'),
  topic_arn: z.string().regex(/^arn:aws[\w-]*:sns:[\w-]+:\d{12}:[\w-]+$/, {
    message:
      'write the topic ARN of a standard topic, e.g. arn:aws:sns:eu-west-3:123456789012:lightsout-events',
  }),
  role_arn: forwardRole,
  kinds: forwardKinds,
});

const FORWARD_TYPES = ['eventbridge', 'sns'] as const;

/** Where events are forwarded to as they are recorded (see docs/forwarding.md). */
const forwardDestination = z
  .looseObject({
    type: z.enum(FORWARD_TYPES, { message: `type is one of ${FORWARD_TYPES.join(', ')}` }),
  })
  .pipe(z.discriminatedUnion('type', [eventBridgeForward, snsForward]));

export type ForwardDocument = z.output<typeof forwardDestination>;

/** The store key of a destination's cursor: its type and address. */
export function forwardKey(f: ForwardDocument): string {
  return f.type === 'sns' ? `sns:${f.topic_arn}` : `eventbridge:${f.region}:${f.bus}`;
}

const forwardList = z.array(forwardDestination).superRefine((list, ctx) => {
  const seen = new Map<string, number>();
  list.forEach((f, i) => {
    const key = forwardKey(f);
    const first = seen.get(key);
    if (first !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: [i],
        message: `the same destination as forward[${first}]: list each bus or topic once (merge their kinds)`,
      });
    else seen.set(key, i);
  });
});

const bucketLimits = z.record(z.string(), bucketRate).superRefine((limits, ctx) => {
  for (const name of Object.keys(limits))
    if (!AWS_BUCKET_NAMES.includes(name))
      ctx.addIssue({
        code: 'custom',
        path: [name],
        message: `"${name}" is not a bucket lightsout keeps; AWS buckets are ${AWS_BUCKET_NAMES.join(', ')} (docs/config.md)`,
      });
});

/**
 * AWS settings beyond selectors: the token buckets lightsout keeps on its side,
 * AWS's documented defaults raised (or lowered) for every account, or for one
 * (AWS raises an account's limits on request).
 */
const awsSettings = z
  .strictObject({
    limits: bucketLimits.default({}),
    accounts: z
      .record(
        z.string().regex(AWS_ACCOUNT, {
          message: 'write the account id as 12 digits, in quotes: "123456789012"',
        }),
        z.strictObject({ limits: bucketLimits.default({}) }),
      )
      .default({}),
  })
  .transform((a): AwsLimits => ({
    all: a.limits,
    accounts: Object.fromEntries(Object.entries(a.accounts).map(([id, v]) => [id, v.limits])),
  }));

export const configSchema = z.strictObject({
  version: z
    .literal(1, {
      message:
        'this lightsout reads version 1 of the config format; write version: 1 or leave it out',
    })
    .default(1),
  timezone: timeZone.default('UTC'),
  schedules: z.record(name('schedule'), schedule).default({}),
  environments: z.record(name('environment'), environment).default({}),
  reservations: z.array(reservation).default([]),
  holds: z.array(hold).default([]),
  sandbox: sandbox.optional(),
  api: api.optional(),
  notifiers: z.record(name('notifier'), notifier).default({}),
  teams: z.record(z.string().min(1), team).default({}),
  /** Where people reach this service: the base of the action links in warnings. */
  public_url: z
    .url({ message: 'write public_url as a URL, e.g. https://lightsout.example.com' })
    .refine((u) => /^https?:/.test(u), { message: 'public_url is an http(s) URL' })
    .optional(),
  switches: switches.default({ hooks: {} }),
  /** AWS's token buckets as this account has them (default: AWS's documented limits). */
  aws: awsSettings.default({ all: {}, accounts: {} }),
  /** Live forwarding of events to EventBridge buses and SNS topics. */
  forward: forwardList.default([]),
  /**
   * How long events are kept before `serve` deletes them; `forever` keeps them.
   * Savings stay exact beyond it: the power ledger keeps what events said about power.
   */
  retention: z
    .union([
      z.literal('forever'),
      duration.refine((ms) => ms >= MIN_RETENTION_MS, {
        message:
          'retention is at least 1d (or forever): events younger than a day may not be exported or read yet',
      }),
    ])
    .default(DEFAULT_RETENTION_MS),
});

export type ConfigDocument = z.output<typeof configSchema>;
export type ScheduleDocument = z.output<typeof schedule>;
export type { Expression };
