/**
 * What every channel says about a notice, in one shape: a title, the sentence,
 * and labelled facts. Each channel lays it out in its own format (Block Kit, an
 * Adaptive Card, an email's parts); the words are the same everywhere.
 */
import type { Notice } from '../engine/ports.js';

export interface RenderedNotice {
  /** One line: what happens to which environment. */
  readonly title: string;
  /** The notice's sentence, as the engine wrote it. */
  readonly text: string;
  /** Labelled facts, in reading order (values already formatted). */
  readonly facts: readonly { readonly label: string; readonly value: string }[];
}

const TITLES: Record<Notice['kind'], (environment: string) => string> = {
  'stop-warning': (environment) => `${environment} is about to stop`,
  'run-summary': (environment) => `${environment}: run report`,
};

export function render(notice: Notice): RenderedNotice {
  const details = notice.details ?? {};
  const facts: { label: string; value: string }[] = [
    { label: 'Environment', value: notice.environment },
  ];
  if (notice.team !== undefined) facts.push({ label: 'Team', value: notice.team });
  const add = (label: string, value: unknown) => {
    if (typeof value === 'string' && value !== '') facts.push({ label, value });
  };
  add('Stops at', details['actAt']);
  add('Cancelling keeps it on until', details['keepsOnUntil']);
  add('Why', details['trigger']);
  if (Array.isArray(details['resources']))
    facts.push({ label: 'Resources', value: (details['resources'] as string[]).join(', ') });
  facts.push({ label: 'Run', value: notice.runId });
  return { title: TITLES[notice.kind](notice.environment), text: notice.text, facts };
}
