import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { cli, configFile } from './run.js';

/** A webhook receiver that answers `status` and counts what it got. */
async function receiver(status: number) {
  const bodies: string[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      bodies.push(body);
      response.writeHead(status).end();
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/h`, bodies, server };
}

describe('lightsout notify test', () => {
  const servers: { close(): void }[] = [];
  afterEach(() => {
    for (const server of servers.splice(0)) server.close();
  });

  const config = (url: string) =>
    configFile(`notifiers:\n  hook: { type: webhook, url: "${url}", secret: s3cr3t-value }\n`);

  it('sends one test message and says it was delivered', async () => {
    const hook = await receiver(204);
    servers.push(hook.server);
    const result = await cli(['notify', 'test', 'hook', '--config', config(hook.url)]);
    expect(result).toMatchObject({ code: 0, out: 'delivered a test message to hook (webhook)' });
    expect(JSON.parse(hook.bodies[0]!)).toMatchObject({
      kind: 'run-summary',
      runId: 'notify-test',
    });
  });

  it('a refusal prints the fix, exit 4, and no secret', async () => {
    const hook = await receiver(404);
    servers.push(hook.server);
    const result = await cli(['notify', 'test', 'hook', '--config', config(hook.url)]);
    expect(result.code).toBe(4);
    expect(result.err).toMatch(/^error: .*hook.*(does not exist|deleted)/);
    expect(result.err + result.out).not.toContain('s3cr3t-value');
    expect(result.err + result.out).not.toContain(hook.url);
  });

  it('an unknown notifier, or a secret that cannot be read, is exit 2 with the fix', async () => {
    const file = configFile(
      'notifiers:\n  team: { type: slack, webhook_url: "${LIGHTSOUT_TEST_UNSET_WEBHOOK}" }\n',
    );
    expect(await cli(['notify', 'test', 'teem', '--config', file])).toMatchObject({
      code: 2,
      err: expect.stringContaining('there is no notifier "teem"') as string,
    });
    expect(await cli(['notify', 'test', 'team', '--config', file])).toMatchObject({
      code: 2,
      err: expect.stringContaining(
        'notifiers.team.webhook_url: the environment variable LIGHTSOUT_TEST_UNSET_WEBHOOK is not set',
      ) as string,
    });
  });
});
