/**
 * How long the dashboard's overview takes to show 1,000 environments (20 teams)
 * in headless Chromium: from a page load (signed in) to every row drawn, and a
 * name filter's redraw; and the environment page of one of them, from a load of
 * its URL and from a click on the overview, to its week drawn. Starts `lightsout serve` on a generated sandbox fleet;
 * needs `npm run build` first and /usr/bin/chromium.
 *
 *   npm run build && npm run bench:dashboard      (ENVIRONMENTS=1000 RUNS=5)
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';

const environments = Number(process.env.ENVIRONMENTS ?? 1000);
const runs = Number(process.env.RUNS ?? 5);
const port = 20_000 + Math.floor(Math.random() * 20_000);
const base = `http://127.0.0.1:${port}`;

const dir = mkdtempSync(join(tmpdir(), 'lightsout-bench-web-'));
const config = join(dir, 'fleet.yaml');
const db = `sqlite:${join(dir, 'lightsout.db')}`;
const lines = [
  'version: 1',
  'timezone: UTC',
  'schedules:',
  '  office-hours:',
  '    periods:',
  "      - { days: mon-fri, start: '07:00', stop: '19:00' }",
  'environments:',
];
for (let i = 0; i < environments; i++)
  lines.push(
    `  env-${String(i).padStart(4, '0')}:`,
    `    team: team-${String(i % 20).padStart(2, '0')}`,
    '    schedule: office-hours',
    '    timezone: Europe/Paris',
    `    select: { provider: sandbox, tags: { env: e${i} } }`,
  );
lines.push('sandbox:', '  resources:');
for (let i = 0; i < environments; i++)
  lines.push(`    - { kind: ec2, name: box-${i}, tags: { env: e${i} } }`);
writeFileSync(config, `${lines.join('\n')}\n`);

const cli = (...args: string[]) =>
  execFileSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
const server = spawn(
  process.execPath,
  ['dist/cli/main.js', 'serve', '--config', config, '--db', db, '--port', String(port)],
  { stdio: 'ignore' },
);
for (let i = 0; ; i++) {
  const up = await fetch(`${base}/healthz`).then(
    (r) => r.ok,
    () => false,
  );
  if (up) break;
  if (i > 300) throw new Error('lightsout serve did not start');
  await new Promise((r) => setTimeout(r, 100));
}
const { token } = JSON.parse(
  cli(
    'token',
    'create',
    '--config',
    config,
    '--db',
    db,
    '--name',
    'bench',
    '--role',
    'admin',
    '--json',
  ),
) as { token: string };

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
try {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/sign-in`);
  await page.getByLabel('API token').fill(token);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.locator('tr[data-environment]').first().waitFor({ timeout: 30_000 });
  const count = await page.locator('tr[data-environment]').count();
  const loads: number[] = [];
  const filters: number[] = [];
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await page.reload();
    await page
      .locator('tr[data-environment]')
      .nth(count - 1)
      .waitFor({ timeout: 30_000 });
    loads.push(performance.now() - started);
    const first = await page
      .locator('tr[data-environment]')
      .first()
      .getAttribute('data-environment');
    const before = performance.now();
    // A name filter that the first row (env-0000 in a generated fleet) does not match.
    await page.getByLabel('Name').fill('7');
    await page.locator(`tr[data-environment="${first ?? ''}"]`).waitFor({ state: 'detached' });
    filters.push(performance.now() - before);
  }
  // The environment page: a load of its URL, and a click from the overview, to its week drawn.
  const environmentUrl = `${base}/environments/env-0500`;
  const weekDrawn = () => page.locator('.week-day').nth(6).waitFor({ timeout: 30_000 });
  const environmentLoads: number[] = [];
  const environmentClicks: number[] = [];
  for (let i = 0; i < runs; i++) {
    await page.goto(environmentUrl);
    await weekDrawn();
    const started = performance.now();
    await page.reload();
    await weekDrawn();
    environmentLoads.push(performance.now() - started);
    await page.goto(`${base}/`);
    await page.getByLabel('Name').fill('env-0500');
    const link = page.getByRole('link', { name: 'env-0500', exact: true });
    await link.waitFor({ timeout: 30_000 });
    const before = performance.now();
    await link.click();
    await weekDrawn();
    environmentClicks.push(performance.now() - before);
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(
    `${count} environments: overview load to all rows drawn, median of ${runs}: ${median(loads).toFixed(0)} ms (max ${Math.max(...loads).toFixed(0)}); a name filter's redraw: ${median(filters).toFixed(0)} ms`,
  );
  console.log(
    `environment page, load to its week drawn, median of ${runs}: ${median(environmentLoads).toFixed(0)} ms (max ${Math.max(...environmentLoads).toFixed(0)}); from a click on the overview: ${median(environmentClicks).toFixed(0)} ms (max ${Math.max(...environmentClicks).toFixed(0)})`,
  );
} finally {
  await browser.close();
  server.kill('SIGTERM');
}
