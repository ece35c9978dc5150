/**
 * The savings page end to end, on a real `lightsout demo` (whose first start
 * records a fortnight of past runs) in headless Chromium: the chart draws with
 * its series named, the table's totals are GET /api/v1/savings's, the grouping
 * switches, the projection answers what the API answers, a team's token sees its
 * team only, an empty window and a refused one say so; axe finds nothing;
 * screenshots at desktop and phone width go to test-artifacts/.
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Demo } from '../support/demo.js';
import { accessibilityViolations, ARTIFACTS, signInWith, startDemo } from '../support/demo.js';

interface Figures {
  hoursOff: number;
  hoursSaved: number;
  money: number;
  kwh: number;
  kgCo2e: number;
}
interface Report {
  from: string;
  to: string;
  environments: (Figures & { environment: string; team: string; unpriced: string[] })[];
  totals: Figures;
}

const usd = (v: number) =>
  new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' }).format(v);
/** Hours as the table writes them (its header names the unit). */
const hours = (v: number) =>
  new Intl.NumberFormat('en-US', { minimumFractionDigits: 1, maximumFractionDigits: 1 }).format(v);

let demo: Demo;

beforeAll(async () => {
  demo = await startDemo();
}, 60_000);

afterAll(async () => {
  await demo.stop();
});

/** Opens the savings page signed in with `secret`; answers the report the page asked for, as the API answers it again. */
async function openSavings(page: Page, secret: string): Promise<{ path: string; report: Report }> {
  await signInWith(demo, page, secret);
  const asked = page.waitForResponse((r) => r.url().includes('/api/v1/savings?'));
  await page.getByRole('link', { name: 'Savings' }).click();
  const path = new URL((await asked).url()).pathname + new URL((await asked).url()).search;
  await page.locator('table.savings-table').waitFor();
  const answer = await fetch(`${demo.base}${path}`, {
    headers: { authorization: `Bearer ${secret}` },
  });
  expect(answer.status).toBe(200);
  return { path, report: (await answer.json()) as Report };
}

/** A select by its label (its accessible name is the label and the option chosen). */
const choice = (page: Page, label: string) =>
  page.getByRole('combobox', { name: new RegExp(`^${label}\\b`) });

const legend = (page: Page) =>
  page
    .locator('[data-chart="savings"] .u-legend .u-series:not(:first-child) .u-label')
    .allTextContents();

describe('the savings page', () => {
  it("draws a fresh demo's fortnight: chart, table totals as the API's, grouping, projection", async () => {
    const page = await demo.browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.setDefaultTimeout(15_000);
    const { path, report } = await openSavings(page, demo.adminToken);
    expect(path).toMatch(/by=day/);

    // The demo's history is there, said to be one: something was saved, and the chart is drawn.
    expect(report.totals.hoursSaved).toBeGreaterThan(0);
    const history = (await (
      await demo.api('GET', '/api/v1/events?actor=demo-history&limit=1000')
    ).json()) as {
      events: { kind: string; environment: string; payload: Record<string, unknown> }[];
    };
    expect(history.events.length).toBeGreaterThan(20);
    for (const event of history.events)
      expect(event).toMatchObject({ kind: 'run.finished', payload: { demoHistory: true } });
    await expect(page.locator('[data-chart="savings"] canvas').count()).resolves.toBeGreaterThan(0);
    // The chart is drawn again after the table: its legend is read until it settles.
    await expect
      .poll(async () => (await legend(page)).sort())
      .toEqual(['data', 'growth', 'payments']);
    const caption = await page.locator('#savings-chart-caption').textContent();
    expect(caption).toMatch(/^Money saved per day by team, from .* UTC to .* UTC, stacked;/);
    expect(caption).toContain(`payments: ${usd(sum(report, 'payments', 'money'))}`);
    expect(caption).toContain('data: no price known');

    // The table: every environment, the totals of the report, the unpriced resources.
    const rows = await page.locator('table.savings-table tbody tr[data-environment]').count();
    expect(rows).toBe(report.environments.length);
    const total = page.locator('tr[data-total="all"]');
    expect(await total.locator('[data-measure="money"]').textContent()).toBe(
      usd(report.totals.money),
    );
    expect(await total.locator('[data-measure="hoursSaved"]').textContent()).toBe(
      hours(report.totals.hoursSaved),
    );
    expect(await total.locator('[data-measure="hoursOff"]').textContent()).toBe(
      hours(report.totals.hoursOff),
    );
    const batch = report.environments.find((e) => e.environment === 'batch')!;
    expect(batch.unpriced).toEqual(['sandbox:asg:batch-runners']);
    expect(await page.locator('tr[data-environment="batch"]').textContent()).toContain(
      'sandbox:asg:batch-runners',
    );
    expect(
      await page.locator('tr[data-total="payments"] [data-measure="money"]').textContent(),
    ).toBe(usd(sum(report, 'payments', 'money')));
    expect(await page.locator('.savings .window').textContent()).toMatch(/UTC to .* UTC\.$/);
    await page.screenshot({ path: join(ARTIFACTS, 'savings-desktop.png'), fullPage: true });

    // Per week, by environment: a new report, one column per environment.
    const weekly = page.waitForResponse((r) => r.url().includes('by=week'));
    await choice(page, 'Per').selectOption('week');
    await weekly;
    await choice(page, 'Chart by').selectOption('environment');
    await page.locator('table[data-periods="week"]').waitFor({ state: 'attached' });
    await expect
      .poll(async () => (await legend(page)).sort())
      .toEqual(['batch', 'dev', 'legacy', 'preview', 'staging']);
    const columns = await page.locator('table[data-periods="week"] thead th').allTextContents();
    expect(columns[0]).toBe('Week of (UTC)');
    expect(columns.slice(1).sort()).toEqual(
      ['batch', 'dev', 'legacy', 'preview', 'staging'].map((e) => `${e} (USD)`),
    );

    // The projection: dev on 08:00-18:00 instead of 07:00-19:00 is off more.
    const projection = page.locator('section.projection');
    await projection.getByLabel('Environment').selectOption('dev');
    await projection.getByLabel('On at').fill('08:00');
    await projection.getByLabel('Off at').fill('18:00');
    const projected = page.waitForResponse((r) => r.url().includes('/api/v1/savings/projection?'));
    await projection.getByRole('button', { name: 'Project' }).click();
    const url = new URL((await projected).url());
    await page.locator('[data-projection="dev"]').waitFor();
    const api = (await (await demo.api('GET', url.pathname + url.search)).json()) as {
      environments: { current: { hoursOff: number }; proposed: { hoursOff: number } }[];
    };
    const [line] = api.environments;
    expect(line!.proposed.hoursOff).toBeGreaterThan(line!.current.hoursOff);
    const offRow = await page
      .locator('[data-projection="dev"] tr[data-measure="hoursOff"] td')
      .allTextContents();
    expect(offRow).toEqual([
      `${hours(line!.current.hoursOff)} h`,
      `${hours(line!.proposed.hoursOff)} h`,
      `${hours(line!.proposed.hoursOff - line!.current.hoursOff)} h more`,
    ]);
    expect(await page.locator('[data-projection="dev"] caption').textContent()).toMatch(
      /UTC to .* UTC$/,
    );

    expect(await accessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'savings-projection.png'), fullPage: true });
    await page.close();
  }, 90_000);

  it("shows a team's token its team only, at phone width", async () => {
    const secret = await demo.token('viewer', 'payments');
    const page = await demo.browser.newPage({ viewport: { width: 390, height: 844 } });
    page.setDefaultTimeout(15_000);
    const { report } = await openSavings(page, secret);
    expect(report.environments.map((e) => e.environment).sort()).toEqual(['dev', 'staging']);
    const shown = await page.evaluate<string[]>(
      `[...document.querySelectorAll('table.savings-table tr[data-environment]')].map((r) => r.dataset.environment)`,
    );
    expect(shown.sort()).toEqual(['dev', 'staging']);
    await expect.poll(() => legend(page)).toEqual(['payments']);
    const options = await page
      .locator('section.projection')
      .getByLabel('Environment')
      .locator('option')
      .allTextContents();
    expect(options.sort()).toEqual(['dev (payments)', 'staging (payments)']);
    // Nothing of another team's anywhere on the page.
    const text = (await page.locator('main').textContent()) ?? '';
    for (const other of ['batch', 'legacy', 'preview', 'growth']) expect(text).not.toContain(other);
    // Usable at 390 px: the page itself does not scroll sideways (wide tables scroll in their box).
    expect(await page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(
      390,
    );
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'savings-phone.png'), fullPage: true });
    await page.close();
  }, 90_000);

  it('says when a window holds nothing yet, and what failed for a window too long', async () => {
    const page = await demo.browser.newPage();
    page.setDefaultTimeout(15_000);
    await openSavings(page, demo.adminToken);
    await choice(page, 'Window').selectOption('custom');
    await page.getByLabel('From (UTC)').fill('2020-01-01');
    await page.getByLabel('To (UTC, whole day)').fill('2020-01-07');
    await expect(page.locator('[data-empty="savings"]').textContent()).resolves.toMatch(
      /Nothing was switched off from 1 Jan 2020, 00:00 UTC to 8 Jan 2020, 00:00 UTC\..*next scheduled stop/,
    );
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'savings-empty.png') });
    await page.getByLabel('From (UTC)').fill('2018-01-01');
    const alert = page.getByRole('alert');
    await expect(alert.textContent()).resolves.toMatch(
      /Could not load the savings: .*more than 400d; ask for a shorter window.*retry/i,
    );
    await page.close();
  }, 90_000);
});

function sum(report: Report, team: string, measure: keyof Figures): number {
  return report.environments.filter((e) => e.team === team).reduce((n, e) => n + e[measure], 0);
}
