/**
 * The dashboard's story end to end, in headless Chromium against a real
 * `lightsout demo`, as a person in Paris uses it on environments kept in UTC:
 * sign in, find an environment, reserve tomorrow afternoon (typed in the
 * environment's zone, shown in both) and see it on the week and in the API,
 * pick a window by dragging across a day, ask to stop and see the grace; stop
 * an environment from its page and postpone the shutdown from the overview's
 * button; start one and follow its run to its end; read the savings; sign out; a viewer gets no change buttons and the API refuses its direct request;
 * a team member never sees another team's environment, even by URL.
 * Screenshots of the environment page go to test-artifacts/ (looked at).
 */
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Demo } from '../support/demo.js';
import { accessibilityViolations, ARTIFACTS, signInWith, startDemo } from '../support/demo.js';

let demo: Demo;

beforeAll(async () => {
  demo = await startDemo();
}, 60_000);

afterAll(async () => {
  await demo.stop();
});

const statusOn = (page: Page) => page.locator('h1 [data-status]').getAttribute('data-status');

/** Tomorrow's date in UTC (the demo's zone), as the date input wants it. */
function tomorrow(): string {
  return new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
}

/** Runs a change from inside the page with its session cookie and CSRF token; the answer's status. */
function changeFromPage(page: Page, path: string, body: unknown): Promise<number> {
  return page.evaluate<number>(`(async () => {
    const me = await (await fetch('/api/v1/session')).json();
    const answer = await fetch(${JSON.stringify(path)}, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-csrf-token': me.csrfToken },
      body: ${JSON.stringify(JSON.stringify(body))},
    });
    return answer.status;
  })()`);
}

describe('the dashboard story', () => {
  it('finds an environment, reserves an afternoon, sees it on the week and in the API', async () => {
    const context = await demo.browser.newContext({
      timezoneId: 'Europe/Paris',
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(demo.signInLink);
    await page.getByRole('heading', { name: 'Environments' }).waitFor();
    await page.getByLabel('Name').fill('de');
    await page.getByRole('link', { name: 'dev', exact: true }).click();
    await page.getByRole('heading', { name: 'dev', exact: true }).waitFor();
    expect(page.url()).toBe(`${demo.base}/environments/dev`);
    await expect(page.locator('.schedule').textContent()).resolves.toMatch(
      /office-hours.*07:00.19:00, Monday through Friday/,
    );
    await page.locator('.week-day').first().waitFor();
    expect(await page.locator('.week-day').count()).toBe(7);

    // Tomorrow 13:00 to 17:00 UTC is 14:00 to 18:00 in Paris (winter time).
    const day = tomorrow();
    await page.getByLabel('From (UTC)').fill(`${day}T13:00`);
    await page.getByLabel('To (UTC)').fill(`${day}T17:00`);
    await expect(page.locator('#reserve-from-mine').textContent()).resolves.toMatch(
      /14:00 in your zone \(Europe\/Paris\)/,
    );
    await expect(page.locator('#reserve-to-mine').textContent()).resolves.toMatch(
      /18:00 in your zone/,
    );
    await page.getByLabel('Note (optional)').fill('demo to the customer');
    await page.getByRole('button', { name: 'Reserve', exact: true }).click();
    await expect(page.getByRole('status').textContent()).resolves.toMatch(/Reserved .* \(UTC\)/);

    // On the week: a reservation band on tomorrow's row, 13:00 to 17:00 of 24 hours.
    const band = page.locator(`.week-day[data-date="${day}"] .band.reserved`);
    await band.waitFor();
    const style = (await band.getAttribute('style')) ?? '';
    expect(Number(/left: ([\d.]+)%/.exec(style)![1])).toBeCloseTo((13 / 24) * 100, 1);
    expect(Number(/width: ([\d.]+)%/.exec(style)![1])).toBeCloseTo((4 / 24) * 100, 1);
    await expect(page.locator('[data-reservation]').allTextContents()).resolves.toContainEqual(
      expect.stringMatching(/demo to the customer/),
    );
    // And in the API.
    const listed = (await (
      await demo.api('GET', '/api/v1/reservations?environment=dev')
    ).json()) as { reservations: { from: string; to: string; note?: string; actor: string }[] };
    expect(listed.reservations).toContainEqual(
      expect.objectContaining({
        from: `${day}T13:00:00.000Z`,
        to: `${day}T17:00:00.000Z`,
        note: 'demo to the customer',
      }),
    );

    // Dragging across a day fills the form: from a quarter past six to nine.
    const track = page.locator(`.week-day[data-date="${day}"] .week-track`);
    await track.scrollIntoViewIfNeeded();
    const box = (await track.boundingBox())!;
    const xAt = (hours: number) => box.x + (hours / 24) * box.width;
    await page.mouse.move(xAt(6.25), box.y + box.height / 2);
    await page.mouse.down();
    await page.mouse.move(xAt(7.5), box.y + box.height / 2, { steps: 4 });
    await page.mouse.move(xAt(9), box.y + box.height / 2, { steps: 4 });
    await page.mouse.up();
    await expect.poll(() => page.getByLabel('From (UTC)').inputValue()).toBe(`${day}T06:15`);
    await expect.poll(() => page.getByLabel('To (UTC)').inputValue()).toBe(`${day}T09:00`);

    // Hold it on until tomorrow evening from the page, see the hold listed, delete it again.
    await page.getByLabel('Until (UTC)').fill(`${day}T20:00`);
    await page.getByRole('button', { name: 'Hold on' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: `Held on until ${day} 20:00 (UTC)` })
      .waitFor();
    const held = page.locator('[data-hold]');
    await expect
      .poll(() => held.allTextContents())
      .toEqual([expect.stringMatching(/^Held on .*until .* 20:00 by api:demo-admin/)]);
    const holds = (await (await demo.api('GET', '/api/v1/holds?environment=dev')).json()) as {
      holds: { state: string; until: string }[];
    };
    expect(holds.holds).toContainEqual(
      expect.objectContaining({ state: 'on', until: `${day}T20:00:00.000Z` }),
    );
    await held.getByRole('button', { name: 'Delete' }).click();
    await held.waitFor({ state: 'detached' });

    // Stop asks first, with the grace; cancelling it changes nothing.
    await page.getByRole('button', { name: 'Stop…' }).click();
    const dialog = page.getByRole('dialog', { name: 'Stop dev?' });
    await expect(dialog.textContent()).resolves.toMatch(/grace of 15 min/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await expect(dialog.isVisible()).resolves.toBe(false);

    expect(await accessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'environment.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, 'environment-phone.png'), fullPage: true });
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.setViewportSize({ width: 1280, height: 900 });

    // Stop staging from its page: the run's page opens in its grace.
    await page.goto(`${demo.base}/environments/staging`);
    await page.getByRole('button', { name: 'Stop…' }).click();
    await page
      .getByRole('dialog', { name: 'Stop staging?' })
      .getByRole('button', { name: /^Stop after 10 min/ })
      .click();
    await page.getByRole('heading', { name: /Stop of staging/ }).waitFor();
    const stopId = decodeURIComponent(new URL(page.url()).pathname.split('/').pop()!);
    expect(await statusOn(page)).toBe('grace');
    // Postpone it from the overview's pending shutdown, as its warning's button would.
    await page.getByRole('link', { name: 'Environments' }).click();
    await page
      .locator('li[data-pending="staging"]')
      .getByRole('button', { name: /^Keep running 1 h: staging/ })
      .click();
    await page.getByRole('status').filter({ hasText: 'staging keeps running until' }).waitFor();
    const postponed = (await (await demo.api('GET', `/api/v1/runs/${stopId}`)).json()) as {
      status: string;
      cancelled: { by: string } | null;
    };
    expect(postponed.status).toBe('cancelled');
    expect(postponed.cancelled?.by).toBe('api:demo-admin');

    // Start dev now and follow its run to its end on the run's page, without reloading.
    await page.goto(`${demo.base}/environments/dev`);
    await page.getByRole('button', { name: 'Start now' }).click();
    await page.getByRole('heading', { name: /Start of dev/ }).waitFor();
    await page.evaluate('window.stillThisPage = true');
    await expect.poll(() => statusOn(page), { timeout: 90_000, interval: 250 }).toBe('succeeded');
    expect(await page.evaluate('window.stillThisPage')).toBe(true);
    expect(await page.locator('tr[data-step]').count()).toBeGreaterThan(0);
    await page.screenshot({ path: join(ARTIFACTS, 'story-run.png'), fullPage: true });

    // Read the savings: the page's total is what the API answers for the page's window.
    const answered = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/v1/savings');
    await page.getByRole('link', { name: 'Savings' }).click();
    const total = page.locator('tr[data-total="all"] [data-measure="money"]');
    await total.waitFor();
    const query = new URL((await answered).url()).search;
    const report = (await (await demo.api('GET', `/api/v1/savings${query}`)).json()) as {
      totals: { money: number };
    };
    expect(report.totals.money).toBeGreaterThan(0);
    const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD' });
    expect(await total.textContent()).toBe(usd.format(report.totals.money));

    // Sign out: the API refuses the page's requests from then on.
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByText('You are signed out.').waitFor();
    expect(await page.evaluate<number>(`fetch('/api/v1/environments').then((r) => r.status)`)).toBe(
      401,
    );
    await context.close();
  });

  it('shows a viewer no change buttons, and the API refuses its direct request', async () => {
    const page = await demo.browser.newPage();
    page.setDefaultTimeout(15_000);
    await signInWith(demo, page, await demo.token('viewer'));
    await page.goto(`${demo.base}/environments/dev`);
    await page.locator('.week-day').first().waitFor();
    expect(await page.getByRole('button', { name: 'Reserve', exact: true }).count()).toBe(0);
    expect(await page.getByRole('button', { name: 'Stop…' }).count()).toBe(0);
    await page.getByText(/changes need an operator/).waitFor();
    const day = tomorrow();
    const status = await changeFromPage(page, '/api/v1/reservations', {
      environment: 'dev',
      from: `${day}T10:00`,
      to: `${day}T11:00`,
    });
    expect(status).toBe(403);
    await page.close();
  });

  it("never shows a team member another team's environment, even by URL", async () => {
    const page = await demo.browser.newPage();
    page.setDefaultTimeout(15_000);
    await signInWith(demo, page, await demo.token('operator', 'growth'));
    await page.goto(`${demo.base}/environments/dev`);
    await page.getByText('There is no environment "dev" that you may see.').waitFor();
    expect(
      await page.evaluate<number>(
        `fetch('/api/v1/environments/dev/timeline').then((r) => r.status)`,
      ),
    ).toBe(404);
    // Its own environment opens, with the change buttons an operator has.
    await page.goto(`${demo.base}/environments/preview`);
    await page.getByRole('button', { name: 'Reserve', exact: true }).waitFor();
    await page.close();
  });
});
