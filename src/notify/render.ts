/**
 * What every channel says about a notice, in one shape: a title, the sentence,
 * labelled facts, a list (a report's resources, a digest's runs) and action
 * links. Each channel lays it out in its own format (Block Kit, an Adaptive Card,
 * an email's parts); the words are the same everywhere. The engine wrote the
 * content when it recorded the notice (engine/notice-bodies.ts); this reads it
 * defensively, since a notice recorded by an older version may lack a field.
 */
import { kindName, kindsText } from '../core/notice-words.js';
import type { Notice } from '../engine/ports.js';

export interface RenderedNotice {
  /** One line: what happens to which environment. */
  readonly title: string;
  /** The notice's sentence, as the engine wrote it. */
  readonly text: string;
  /** Labelled facts, in reading order (values already formatted). */
  readonly facts: readonly Fact[];
  /** One line per item of a list, in reading order (failures first); empty for none. */
  readonly lines: readonly string[];
  /** The links a warning offers (`details.actions`), http(s) only. */
  readonly actions: readonly { readonly label: string; readonly url: string }[];
}

interface Fact {
  readonly label: string;
  readonly value: string;
}

const TITLES: Record<Notice['kind'], (notice: Notice) => string> = {
  'stop-warning': (n) => `${n.environment} is about to stop`,
  'run-summary': (n) => `${n.environment}: run report`,
  'run-failed': (n) => `${n.environment}: a run failed`,
  'resource-restarted': (n) => `${n.environment}: a database started by itself`,
  'run-digest': (n) => {
    const count = numberIn(n.details, 'count') ?? 0;
    return `Run reports: ${count} ${count === 1 ? 'run' : 'runs'} (${numberIn(n.details, 'failed') ?? 0} failed)`;
  },
};

type Details = Readonly<Record<string, unknown>>;

function stringIn(details: Details | undefined, key: string): string | undefined {
  const value = details?.[key];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function numberIn(details: Details | undefined, key: string): number | undefined {
  const value = details?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function countsIn(details: Details, key: string): Record<string, number> | undefined {
  const value = details[key];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return Object.fromEntries(
    Object.entries(value).filter((e): e is [string, number] => typeof e[1] === 'number'),
  );
}

/** `details.actions` ({action, label, url, token}) as links: a label and an http(s) URL. */
export function linkActions(notice: Notice): { label: string; url: string }[] {
  const raw = notice.details?.['actions'];
  if (!Array.isArray(raw)) return [];
  const links: { label: string; url: string }[] = [];
  for (const item of raw as unknown[]) {
    const { label, url } = (item ?? {}) as { label?: unknown; url?: unknown };
    if (typeof label !== 'string' || label === '' || typeof url !== 'string') continue;
    try {
      const parsed = new URL(url);
      if (parsed.protocol === 'https:' || parsed.protocol === 'http:')
        links.push({ label, url: parsed.href });
    } catch {
      // not a URL: no link
    }
  }
  return links;
}

/** One resource of a report: "i-0abc (EC2 instance, tier apps): failed after 3 attempts, 2 min — reason". */
export function rowLine(row: Details): string | undefined {
  const resource = stringIn(row, 'resource');
  const status = stringIn(row, 'status');
  if (resource === undefined || status === undefined) return undefined;
  const kind = stringIn(row, 'kind');
  const tier = stringIn(row, 'tier');
  const what = [kind === undefined ? undefined : kindName(kind, 1), tier && `tier ${tier}`]
    .filter((p) => p !== undefined)
    .join(', ');
  const attempts = numberIn(row, 'attempts') ?? 0;
  const duration = stringIn(row, 'duration');
  const error = stringIn(row, 'error');
  return (
    `${resource}${what === '' ? '' : ` (${what})`}: ${status}, ` +
    `${attempts} ${attempts === 1 ? 'attempt' : 'attempts'}` +
    `${duration === undefined ? '' : `, ${duration}`}${error === undefined ? '' : ` — ${error}`}`
  );
}

function listLines(details: Details): string[] {
  const rows = Array.isArray(details['resources']) ? (details['resources'] as unknown[]) : [];
  const lines = rows
    .filter((r): r is Details => typeof r === 'object' && r !== null)
    .map(rowLine)
    .filter((l): l is string => l !== undefined);
  const more = numberIn(details, 'more') ?? 0;
  if (more > 0)
    lines.push(
      `and ${more} more${stringIn(details, 'seeAll') === undefined ? '' : `: ${stringIn(details, 'seeAll')!}`}`,
    );
  return lines;
}

function digestLines(details: Details): string[] {
  const runs = Array.isArray(details['runs']) ? (details['runs'] as unknown[]) : [];
  return runs
    .map((r) => stringIn((r ?? {}) as Details, 'text'))
    .filter((t): t is string => t !== undefined);
}

/** "3 done, 1 failed" from a report's counts by step status. */
function countsText(counts: Record<string, number>): string | undefined {
  const parts = Object.entries(counts).map(([status, n]) => `${n} ${status}`);
  return parts.length === 0 ? undefined : parts.join(', ');
}

export function render(notice: Notice): RenderedNotice {
  const details: Details = notice.details ?? {};
  const facts: Fact[] = [{ label: 'Environment', value: notice.environment }];
  if (notice.team !== undefined) facts.push({ label: 'Team', value: notice.team });
  const add = (label: string, value: string | undefined) => {
    if (value !== undefined && value !== '') facts.push({ label, value });
  };
  const actions = notice.kind === 'stop-warning' ? linkActions(notice) : [];
  let lines: string[] = [];
  const kinds = countsIn(details, 'kinds');
  switch (notice.kind) {
    case 'stop-warning': {
      add('Stops at', stringIn(details, 'when') ?? stringIn(details, 'actAt'));
      if (kinds !== undefined) add('What', kindsText(kinds));
      add('Why', stringIn(details, 'why') ?? stringIn(details, 'trigger'));
      if (Array.isArray(details['resources']))
        add('Resources', (details['resources'] as unknown[]).map(String).join(', '));
      add(
        'Cancelling keeps it on until',
        stringIn(details, 'keepsOnUntilText') ?? stringIn(details, 'keepsOnUntil'),
      );
      // Without links (no public_url), the way to cancel is the CLI or the API.
      if (actions.length === 0)
        add(
          'To cancel',
          `lightsout cancel ${notice.runId} --config FILE, or POST /api/v1/runs/${notice.runId}/cancel`,
        );
      break;
    }
    case 'run-summary':
      add('Outcome', stringIn(details, 'outcome'));
      add('Reason', stringIn(details, 'reason'));
      add('Took', stringIn(details, 'duration'));
      add('Resources', countsText(countsIn(details, 'counts') ?? {}));
      add('Error', stringIn(details, 'error'));
      if (Array.isArray(details['notes'])) add('Note', (details['notes'] as unknown[]).join('; '));
      lines = listLines(details);
      break;
    case 'run-failed': {
      const failed = numberIn(details, 'failed');
      const total = numberIn(details, 'total');
      if (failed !== undefined && total !== undefined) add('Failed', `${failed} of ${total}`);
      add('Error', stringIn(details, 'error'));
      add('Tried again at', stringIn(details, 'retry'));
      lines = listLines(details);
      break;
    }
    case 'resource-restarted':
      if (kinds !== undefined) add('What', kindsText(kinds));
      if (Array.isArray(details['resources']))
        add('Resources', (details['resources'] as unknown[]).map(String).join(', '));
      add('Why', stringIn(details, 'why'));
      break;
    case 'run-digest':
      lines = digestLines(details);
      break;
  }
  if (notice.kind !== 'run-digest') facts.push({ label: 'Run', value: notice.runId });
  return { title: TITLES[notice.kind](notice), text: notice.text, facts, lines, actions };
}
