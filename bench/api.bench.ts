/**
 * The API's benchmark (part of `npm run bench`), targets from issue #6, on SQLite:
 * POST reservations at least 1,000 requests/s with p99 under 25 ms; GET
 * environments at least 3,000 requests/s. The load tool is autocannon, in this
 * process, against the built `lightsout serve` in its own process on 127.0.0.1,
 * with the settings printed beside the figures. The rate limit is raised so it
 * does not cap the load.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';

const SECONDS = 10;
const CONNECTIONS = 10;

/** The built `lightsout serve` as its own process, so the load tool does not share its thread. */
async function startServer(): Promise<{ url: string; token: string; stop: () => void }> {
  const dir = mkdtempSync(join(tmpdir(), 'lightsout-bench-'));
  const config = join(dir, 'lightsout.yaml');
  const db = `sqlite:${join(dir, 'bench.db')}`;
  const environments = Array.from(
    { length: 50 },
    (_, i) =>
      `  env-${i}: { timezone: Europe/Paris, team: team-${i % 5}, max_reservation: 400d, select: { provider: sandbox, tags: { env: env-${i} } } }`,
  );
  writeFileSync(config, `environments:\n${environments.join('\n')}\n`);
  const cli = (...args: string[]) =>
    execFileSync(process.execPath, ['dist/cli/main.js', ...args], { encoding: 'utf8' });
  const { token } = JSON.parse(
    cli(
      'token',
      'create',
      '--name',
      'bench',
      '--role',
      'admin',
      '--config',
      config,
      '--db',
      db,
      '--json',
    ),
  ) as { token: string };
  const child = spawn(process.execPath, [
    'dist/cli/main.js',
    'serve',
    '--config',
    config,
    '--db',
    db,
    '--port',
    '0',
    '--rate-limit',
    '10000000',
  ]);
  let output = '';
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /"port":(\d+)/.exec(output);
      if (match !== null) resolve(Number(match[1]));
    });
    child.on('exit', (code) => {
      reject(new Error(`serve exited with ${code}: ${output}`));
    });
  });
  return { url: `http://127.0.0.1:${port}`, token, stop: () => child.kill('SIGTERM') };
}

export async function apiBenchmarks(): Promise<string[]> {
  const server = await startServer();
  const { url, token } = server;
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };

  let n = 0;
  const day = 86_400_000;
  const post = await autocannon({
    url: `${url}/api/v1/reservations`,
    method: 'POST',
    headers,
    connections: CONNECTIONS,
    duration: SECONDS,
    // Each request a different environment and window, so reservations pile up as in use.
    setupClient: (client) => {
      client.setBody(JSON.stringify(nextReservation()));
    },
    requests: [
      {
        setupRequest: (request) => ({ ...request, body: JSON.stringify(nextReservation()) }),
      },
    ],
  });
  function nextReservation() {
    n += 1;
    const from = Date.now() + (n % 300) * day;
    return {
      environment: `env-${n % 50}`,
      from: new Date(from).toISOString(),
      to: new Date(from + 3 * 3_600_000).toISOString(),
    };
  }
  const get = await autocannon({
    url: `${url}/api/v1/environments`,
    headers,
    connections: CONNECTIONS,
    duration: SECONDS,
  });
  server.stop();
  const errors = (r: autocannon.Result) => r.errors + r.non2xx;
  return [
    '## API (issue #6): autocannon on SQLite',
    '',
    `autocannon (in the benchmark process) against \`lightsout serve\` (its own process, SQLite), ${CONNECTIONS} connections, ${SECONDS} s per route, 127.0.0.1, admin token, 50 environments.`,
    '',
    '| measure | result | target |',
    '| --- | --- | --- |',
    `| POST /api/v1/reservations (each to another environment and window) | ${Math.round(post.requests.average)} requests/s, p50 ${post.latency.p50} ms, p99 ${post.latency.p99} ms, ${errors(post)} errors or non-2xx | ≥ 1,000 requests/s, p99 < 25 ms |`,
    `| GET /api/v1/environments | ${Math.round(get.requests.average)} requests/s, p99 ${get.latency.p99} ms, ${errors(get)} errors or non-2xx | ≥ 3,000 requests/s |`,
  ];
}
