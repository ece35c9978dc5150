/**
 * The events page end to end: a real `lightsout demo` and headless Chromium in
 * Europe/Paris. Filters bound to the URL (kept on reload), a text search, "Load
 * more", both downloads checked against the API, the empty and error states, a
 * team's session seeing its team's events only (in the page and at the API), axe,
 * and screenshots at desktop and phone width in test-artifacts/.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Demo } from '../support/demo.js';
import { accessibilityViolations, ARTIFACTS, signInWith, startDemo } from '../support/demo.js';

let demo: Demo;

interface Logged {
  readonly id: number;
  readonly kind: string;
  readonly environment: string | null;
  readonly runId: string | null;
}

/** What the list shows: `environment kind` per event, top to bottom. */
const shown = (page: Page): Promise<string[]> =>
  page.evaluate<string[]>(
    `[...document.querySelectorAll('li.event')].map((li) => (li.querySelector('.event-head a[href^="/environments/"]')?.textContent ?? '-') + ' ' + li.dataset.kind)`,
  );
const shownIds = (page: Page): Promise<number[]> =>
  page.evaluate<number[]>(
    `[...document.querySelectorAll('li.event')].map((li) => Number(li.dataset.eventId))`,
  );

async function apiEvents(query: string): Promise<Logged[]> {
  const answer = await demo.api('GET', `/api/v1/events?${query}`);
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { events: Logged[] }).events;
}

async function signedIn(secret: string): Promise<{ context: BrowserContext; page: Page }> {
  const context = await demo.browser.newContext({
    timezoneId: 'Europe/Paris',
    acceptDownloads: true,
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await signInWith(demo, page, secret);
  return { context, page };
}

/** Clicks a download link; answers the file's name and text. */
async function download(page: Page, name: string): Promise<{ file: string; text: string }> {
  const [file] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name, exact: true }).click(),
  ]);
  return { file: file.suggestedFilename(), text: readFileSync(await file.path(), 'utf8') };
}

beforeAll(async () => {
  demo = await startDemo();
  // 55 reservations of batch: more than a page of the list (50).
  const day = 86_400_000;
  for (let i = 0; i < 55; i++) {
    const from = Date.now() + 2 * day + i * 3_600_000;
    const answer = await demo.api('POST', '/api/v1/reservations', {
      environment: 'batch',
      from: new Date(from).toISOString(),
      to: new Date(from + 1_800_000).toISOString(),
    });
    expect(answer.status).toBe(201);
  }
}, 120_000);

afterAll(async () => {
  await demo.stop();
});

describe('the events page', () => {
  it('lists newest first with both times, filters from the URL, searches, loads more, downloads', async () => {
    const { context, page } = await signedIn(demo.adminToken);
    await page.getByRole('link', { name: 'Events' }).click();
    await page.getByRole('heading', { name: 'Events' }).waitFor();
    await page.locator('li.event').first().waitFor();
    const ids = await shownIds(page);
    expect(ids).toEqual([...ids].sort((a, b) => b - a));
    // Times in the viewer's zone and in UTC, each named.
    const times = await page.locator('li.event .event-times').first().textContent();
    expect(times).toMatch(/\(Europe\/Paris\) · .*\(UTC\)$/);

    // A filter from the form goes to the URL, and a reload keeps it.
    await page.getByLabel('Environment').selectOption('batch');
    await page.getByLabel('Kinds').fill('reservation.*');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.waitForURL(/\/events\?environment=batch&kind=reservation\.\*$/);
    await expect.poll(() => page.locator('li.event').count()).toBe(50);
    expect(new Set(await shown(page))).toEqual(new Set(['batch reservation.created']));
    await page.reload();
    await expect.poll(() => page.locator('li.event').count()).toBe(50);
    expect(await page.getByLabel('Kinds').inputValue()).toBe('reservation.*');
    expect(await page.getByLabel('Environment').inputValue()).toBe('batch');

    // Load more: the next page after the cursor, and no button once all are shown.
    const expected = (
      await apiEvents('environment=batch&kind=reservation.*&order=desc&limit=1000')
    ).map((e) => e.id);
    expect(expected.length).toBeGreaterThanOrEqual(55);
    await page.getByRole('button', { name: 'Load more' }).click();
    await expect.poll(() => shownIds(page)).toEqual(expected);
    await page.getByText('(all of them)').waitFor();
    expect(await page.getByRole('button', { name: 'Load more' }).count()).toBe(0);

    // Both downloads hold every event of the filter, newest first.
    const csv = await download(page, 'CSV');
    expect(csv.file).toMatch(/^lightsout-events-\d{8}T\d{6}Z\.csv$/);
    const rows = csv.text.trim().split('\r\n');
    expect(rows[0]).toBe('id,at,kind,environment,resource,runId,actor,payload');
    expect(rows.slice(1).map((r) => Number(r.split(',')[0]))).toEqual(expected);
    expect(rows.slice(1).every((r) => r.includes(',reservation.created,batch,'))).toBe(true);
    const ndjson = await download(page, 'NDJSON');
    expect(ndjson.file).toMatch(/\.ndjson$/);
    const lines = ndjson.text
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Logged);
    expect(lines.map((e) => e.id)).toEqual(expected);

    // A text search: a run's id finds that run's events; its link opens the run page.
    const stop = await demo.api('POST', '/api/v1/environments/staging/stop', { grace: '24h' });
    const run = ((await stop.json()) as { id: string }).id;
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await page.waitForURL(/\/events$/);
    await page.getByLabel('Search').fill(run.slice(0, 13));
    await page.getByLabel('Search').press('Enter');
    await page.waitForURL(/q=/);
    await expect.poll(async () => (await shown(page)).includes('staging run.created')).toBe(true);
    const found = await shown(page);
    expect(found.length).toBeGreaterThan(0);
    expect(found.every((s) => s.startsWith('staging '))).toBe(true);
    expect(found).toContain('staging run.created');
    await page.getByText(/Text search covers .*\(Europe\/Paris\) to now/).waitFor();

    // Expanded, an event shows its payload and links to its run.
    const created = page.locator('li.event[data-kind="run.created"]');
    await created.getByText('Details').click();
    expect(await created.locator('pre').textContent()).toContain('"direction": "stop"');
    expect(await created.getByRole('link', { name: run }).getAttribute('href')).toBe(
      `/runs/${run}`,
    );
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'events.png'), fullPage: true });
    // At phone width: nothing wider than the screen, still no violation.
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, 'events-phone.png'), fullPage: true });
    const overflow = await page.evaluate<number>(
      'document.documentElement.scrollWidth - document.documentElement.clientWidth',
    );
    expect(overflow).toBe(0);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 720 });

    // Nothing matches: the page says so, and clearing shows everything again.
    await page.goto(`${demo.base}/events?q=no-such-text-anywhere`);
    await page.getByText('No event matches these filters.').waitFor();
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await page.waitForURL(/\/events$/);
    await page.locator('li.event').first().waitFor();

    await context.close();
  }, 180_000);

  it('says what failed, and retries', async () => {
    const { context, page } = await signedIn(demo.adminToken);
    let failing = true;
    await page.route(
      (url) => url.pathname === '/api/v1/events',
      (route) =>
        failing
          ? route.fulfill({
              status: 503,
              contentType: 'application/problem+json',
              body: JSON.stringify({
                type: 'https://lightsout.dev/problems/store-unavailable',
                title: 'Store unavailable',
                status: 503,
                detail: 'the store is away; nothing was changed, retry later',
              }),
            })
          : route.continue(),
    );
    await page.goto(`${demo.base}/events`);
    const alert = page.getByRole('alert');
    await alert.waitFor();
    expect(await alert.textContent()).toContain(
      'Could not load the events: the store is away; nothing was changed, retry later',
    );
    // A search window too long is the API's own words, with what to do.
    failing = false;
    await page.goto(`${demo.base}/events?q=x&since=2020-01-01T00:00:00.000Z`);
    await page.getByText(/a text search reads at most 31d of events/).waitFor();
    await page.getByText('Set From and To at most 31 days apart').waitFor();
    failing = true;
    await page.goto(`${demo.base}/events`);
    await alert.waitFor();
    failing = false;
    await page.getByRole('button', { name: 'Retry' }).click();
    await page.locator('li.event').first().waitFor();
    await context.close();
  }, 60_000);

  it("a team's session sees its team's events only, in the page, the downloads and the API", async () => {
    const growth = await demo.token('viewer', 'growth');
    const { context, page } = await signedIn(growth);
    await page.goto(`${demo.base}/events`);
    await page.locator('li.event').first().waitFor();
    const environments = new Set((await shown(page)).map((s) => s.split(' ')[0]));
    expect([...environments].every((e) => e === 'legacy' || e === 'preview')).toBe(true);
    // The selects offer its team's environments only.
    expect(await page.getByLabel('Environment').locator('option').allTextContents()).toEqual([
      'All environments',
      'legacy',
      'preview',
    ]);
    // Another team's environment, even by URL, does not exist for it.
    await page.goto(`${demo.base}/events?environment=dev`);
    await page.getByText('there is no environment "dev"').waitFor();
    await page.goto(`${demo.base}/events?team=payments`);
    await page.getByText('there is no team "payments"').waitFor();
    // Nor in what its session downloads, whatever the search.
    const answers = await page.evaluate(async () => {
      const all = await (await fetch('/api/v1/events?format=ndjson')).text();
      const search = await (await fetch('/api/v1/events?format=csv&q=staging')).text();
      return { all, search };
    });
    const seen = answers.all
      .trim()
      .split('\n')
      .map((l) => (JSON.parse(l) as Logged).environment);
    expect(seen.length).toBeGreaterThan(0);
    expect(seen.every((e) => e === 'legacy' || e === 'preview')).toBe(true);
    expect(answers.search.trim().split('\r\n')).toEqual([
      'id,at,kind,environment,resource,runId,actor,payload',
    ]);
    await context.close();
  }, 60_000);
});
