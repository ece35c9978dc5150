/**
 * With the Slack app configured, a stop warning's buttons act through its
 * interactivity URL: `action_id` `lightsout:<action>`, the action token as
 * `value`, no URL; without it they stay links to the action pages. channelsOf turns them on for every Slack channel.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { Notice } from '../../src/engine/ports.js';
import { channelsOf } from '../../src/notify/channels.js';
import { slackMessage } from '../../src/notify/slack.js';
import type { NoticeAction } from '../../src/switches/link-actions.js';

const actions: NoticeAction[] = [
  {
    action: 'keep-1h',
    label: 'Keep running 1 h',
    url: 'https://lo.example/actions/t1',
    token: 't1',
  },
  { action: 'stop-now', label: 'Stop now', url: 'https://lo.example/actions/t2', token: 't2' },
];

const warning: Notice = {
  kind: 'stop-warning',
  environment: 'dev',
  team: 'payments',
  runId: 'run-42',
  text: 'dev stops at 18:00 UTC',
  at: Date.parse('2026-06-01T17:45Z'),
  details: { actAt: '2026-06-01T18:00:00.000Z', actions },
};

describe('Slack buttons', () => {
  it('interactive: buttons carry the action and its token, and no URL', () => {
    const block = slackMessage(warning, true).blocks.find((b) => b.type === 'actions');
    expect(block).toEqual({
      type: 'actions',
      elements: [
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Keep running 1 h', emoji: false },
          action_id: 'lightsout:keep-1h',
          value: 't1',
        },
        {
          type: 'button',
          text: { type: 'plain_text', text: 'Stop now', emoji: false },
          action_id: 'lightsout:stop-now',
          value: 't2',
        },
      ],
    });
  });

  it('not interactive: the same actions are links to their pages', () => {
    const block = slackMessage(warning).blocks.find((b) => b.type === 'actions');
    expect(block).toMatchObject({
      elements: [
        { url: 'https://lo.example/actions/t1', action_id: 'lightsout-action-0' },
        { url: 'https://lo.example/actions/t2', action_id: 'lightsout-action-1' },
      ],
    });
    expect(JSON.stringify(block)).not.toContain('"value"');
  });

  it('an action without a token, or a token too long for a button, makes no button', () => {
    const odd = {
      ...warning,
      details: {
        actions: [
          { action: 'keep-1h', label: 'Keep' },
          { ...actions[1], token: 'x'.repeat(2001) },
        ],
      },
    };
    expect(slackMessage(odd, true).blocks.map((b) => b.type)).not.toContain('actions');
  });

  it('channelsOf makes Slack channels interactive when the Slack app is configured', async () => {
    const bodies: string[] = [];
    const server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString()));
      request.on('end', () => {
        bodies.push(body);
        response.writeHead(200).end('ok');
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T/B/x`;
      const notifiers = { ops: { type: 'slack' as const, webhook_url: url } };
      await channelsOf(notifiers, undefined, { slackInteractive: true }).get('ops')!.send(warning);
      await channelsOf(notifiers).get('ops')!.send(warning);
      expect(bodies[0]).toContain('"action_id":"lightsout:keep-1h","value":"t1"');
      expect(bodies[1]).toContain('"url":"https://lo.example/actions/t1"');
      expect(bodies[1]).not.toContain('"value"');
    } finally {
      server.close();
    }
  });
});
