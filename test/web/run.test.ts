/**
 * The run page and the overview's pending shutdowns, end to end: a real
 * `lightsout demo` (time 60x) and headless Chromium. A stop started through the
 * API is followed on its page from grace to acting to done without a reload; an
 * operator cancels a stop from its page (after confirming) while a viewer sees no
 * Cancel and the API refuses its request; another team's run is not found; "Keep
 * running 1 h" on the overview calls off a pending shutdown as the warning's link
 * would. Screenshots go to test-artifacts/ (looked at, not compared).
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

/** A stop of `environment` with `grace`, as the demo's admin asks for it; its run. */
async function stop(environment: string, grace: string): Promise<Record<string, string>> {
  const answer = await demo.api('POST', `/api/v1/environments/${environment}/stop`, { grace });
  expect(answer.status).toBe(202);
  return (await answer.json()) as Record<string, string>;
}

async function runOf(id: string): Promise<Record<string, unknown>> {
  return (await (await demo.api('GET', `/api/v1/runs/${id}`)).json()) as Record<string, unknown>;
}

const statusOn = (page: Page) => page.locator('h1 [data-status]').getAttribute('data-status');

async function signedIn(role: 'viewer' | 'operator' | 'admin', team?: string): Promise<Page> {
  const context = await demo.browser.newContext();
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  await signInWith(demo, page, await demo.token(role, team));
  return page;
}

describe('the run page', () => {
  it('follows a stop live, grace → acting → done, without reloading', async () => {
    const page = await signedIn('operator');
    // Ten minutes of grace: ten seconds at the demo's speed.
    const run = await stop('staging', '10m');
    await page.goto(`${demo.base}/runs/${run.id!}`);
    await page.getByRole('heading', { name: /Stop of staging/ }).waitFor();
    expect(await statusOn(page)).toBe('grace');
    await expect.poll(() => page.getByRole('status').first().textContent()).toContain('live');
    // The times say their zone; who triggered it is named.
    expect(await page.locator('.run-facts').textContent()).toContain('(UTC)');
    expect(await page.locator('.run-facts').textContent()).toMatch(/a command, as api:demo-admin/);
    // Marks this document: a reload would lose it.
    await page.evaluate('window.stillThisPage = true');
    await expect.poll(() => statusOn(page), { timeout: 40_000, interval: 100 }).toBe('acting');
    await page.locator('tr[data-step]').first().waitFor();
    await page.screenshot({ path: join(ARTIFACTS, 'run-acting.png'), fullPage: true });
    await expect.poll(() => statusOn(page), { timeout: 60_000, interval: 250 }).toBe('succeeded');
    expect(await page.evaluate('window.stillThisPage')).toBe(true);
    // Every step's outcome, tiers in the order they act: a stop's apps, then their database.
    const steps = await page.evaluate<string[]>(
      `[...document.querySelectorAll('tr[data-step]')].map((r) => r.dataset.step.split(':').pop() + ' ' + r.dataset.status)`,
    );
    expect(steps.slice(0, 2).sort()).toEqual([
      expect.stringMatching(/^staging-api (done|already)$/) as unknown,
      expect.stringMatching(/^staging-web (done|already)$/) as unknown,
    ]);
    expect(steps[2]).toMatch(/^staging-db (done|already)$/);
    expect(await page.getByRole('heading', { level: 3 }).allTextContents()).toEqual([
      'Tier 2 · acts first',
      'Tier 1 · acts last',
    ]);
    expect(await page.getByRole('status').first().textContent()).toContain('final');
    expect(await page.getByRole('button', { name: /Cancel this stop/ }).count()).toBe(0);
    expect(await accessibilityViolations(page)).toEqual([]);
    await page.screenshot({ path: join(ARTIFACTS, 'run.png'), fullPage: true });
    await page.setViewportSize({ width: 390, height: 844 });
    await page.screenshot({ path: join(ARTIFACTS, 'run-phone.png'), fullPage: true });
    await page.context().close();
  }, 120_000);

  it('an operator cancels a stop from its page; a viewer sees no Cancel and the API refuses it; another team finds no such run', async () => {
    const run = await stop('dev', '24h');

    const viewer = await signedIn('viewer');
    await viewer.goto(`${demo.base}/runs/${run.id!}`);
    await viewer.getByRole('heading', { name: /Stop of dev/ }).waitFor();
    expect(await statusOn(viewer)).toBe('grace');
    expect(await viewer.getByRole('button', { name: /Cancel/ }).count()).toBe(0);
    const refused = await viewer.evaluate(async (id) => {
      const { csrfToken } = (await (await fetch('/api/v1/session')).json()) as {
        csrfToken: string;
      };
      const answer = await fetch(`/api/v1/runs/${id}/cancel`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
        body: '{}',
      });
      return answer.status;
    }, run.id!);
    expect(refused).toBe(403);
    expect((await runOf(run.id!)).status).toBe('grace');

    const growth = await signedIn('operator', 'growth');
    await growth.goto(`${demo.base}/runs/${run.id!}`);
    await growth.getByRole('heading', { name: 'Run not found' }).waitFor();
    expect(await growth.locator('main').textContent()).not.toContain('dev');

    const operator = await signedIn('operator');
    await operator.goto(`${demo.base}/runs/${run.id!}`);
    await operator.getByRole('heading', { name: /Stop of dev/ }).waitFor();
    await operator.getByRole('button', { name: 'Cancel this stop…' }).click();
    // It asks first; saying no changes nothing.
    await operator.getByRole('button', { name: 'No, let it stop' }).click();
    expect((await runOf(run.id!)).status).toBe('grace');
    await operator.getByRole('button', { name: 'Cancel this stop…' }).click();
    expect(await operator.getByRole('group').textContent()).toMatch(
      /Cancel the stop of dev due at .*\(UTC\)\?/,
    );
    expect(await accessibilityViolations(operator)).toEqual([]);
    await operator.screenshot({ path: join(ARTIFACTS, 'run-cancel-confirm.png'), fullPage: true });
    await operator.getByRole('button', { name: 'Yes, cancel the stop' }).click();
    await expect.poll(() => statusOn(operator)).toBe('cancelled');
    expect(await operator.locator('.cancelled-by').textContent()).toMatch(
      /by api:operator-all-\d+ at .*\(UTC\); it keeps running until .*\(UTC\)/,
    );
    const cancelled = await runOf(run.id!);
    expect(cancelled.status).toBe('cancelled');
    expect(cancelled.cancelled).toMatchObject({
      by: expect.stringMatching(/^api:operator-all-/) as unknown,
    });
    for (const page of [viewer, growth, operator]) await page.context().close();
  }, 90_000);
  it('reads the run every few seconds when its stream is refused, and says it is not live', async () => {
    const page = await signedIn('viewer');
    // The stream answers as a process with no room left would.
    await page.route('**/api/v1/runs/*/stream', (route) =>
      route.fulfill({
        status: 503,
        contentType: 'application/problem+json',
        body: JSON.stringify({ type: 'too-many-streams', status: 503 }),
      }),
    );
    const run = await stop('batch', '10m');
    await page.goto(`${demo.base}/runs/${run.id!}`);
    await page.getByRole('heading', { name: /Stop of batch/ }).waitFor();
    await expect
      .poll(() => page.getByRole('status').first().textContent())
      .toContain('not live: read every 3 s');
    // It still follows the run to its end.
    await expect
      .poll(() => statusOn(page), { timeout: 60_000, interval: 250 })
      .toMatch(/^(succeeded|failed)$/);
    expect(await page.getByRole('status').first().textContent()).toContain('final');
    await page.context().close();
  }, 90_000);
});

describe('pending shutdowns on the overview', () => {
  it('"Keep running 1 h" calls off the stop as the warning would; a viewer sees the warning only', async () => {
    const legacy = await stop('legacy', '24h');
    const preview = await stop('preview', '24h');

    const viewer = await signedIn('viewer');
    const viewerPending = viewer.locator('li[data-pending="preview"]');
    await viewerPending.waitFor();
    expect(await viewerPending.textContent()).toMatch(/preview stops in .*\(UTC\)/);
    expect(await viewer.locator('.pending button').count()).toBe(0);
    // The row links to its run page.
    expect(await viewerPending.getByRole('link').getAttribute('href')).toBe(`/runs/${preview.id!}`);
    await viewer.context().close();

    const operator = await signedIn('operator');
    const row = operator.locator('li[data-pending="legacy"]');
    await row.waitFor();
    expect(await accessibilityViolations(operator)).toEqual([]);
    await operator.screenshot({ path: join(ARTIFACTS, 'overview-pending.png'), fullPage: true });
    await operator.setViewportSize({ width: 390, height: 844 });
    await operator.screenshot({
      path: join(ARTIFACTS, 'overview-pending-phone.png'),
      fullPage: true,
    });
    await operator.setViewportSize({ width: 1280, height: 720 });
    await row.getByRole('button', { name: /^Keep running 1 h: legacy/ }).click();
    await operator.getByRole('status').filter({ hasText: 'legacy keeps running until' }).waitFor();
    await operator.locator('li[data-pending="legacy"]').waitFor({ state: 'detached' });
    // At the API: the stop is cancelled, and the environment stays on an hour past its stop.
    const after = await runOf(legacy.id!);
    expect(after.status).toBe('cancelled');
    expect(Date.parse((after.cancelled as { keepOnUntil: string }).keepOnUntil)).toBe(
      Date.parse(legacy.actAt!) + 3_600_000,
    );
    // The other pending stop is still pending.
    expect((await runOf(preview.id!)).status).toBe('grace');
    await operator.context().close();
  }, 90_000);
});
