/**
 * A local HTTP server standing in for a channel's endpoint (a webhook, Slack,
 * Teams, SNS's query API): it records every request whole and answers as its
 * `answer` says, which a test may change between requests.
 */
import { once } from 'node:events';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ReceivedRequest {
  readonly method: string;
  /** The path and query, e.g. `/services/T0/B0/x`. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** Answers one request; one that writes nothing leaves the request hanging. */
export type Answer = (request: ReceivedRequest, response: ServerResponse) => void;

export const answerOk: Answer = (_request, response) => response.writeHead(200).end('ok');

export interface HttpReceiver {
  /** `http://127.0.0.1:PORT`, no trailing slash. */
  readonly url: string;
  readonly received: ReceivedRequest[];
  answer: Answer;
  /** Drops open connections (a hanging request among them); the server keeps listening. */
  readonly dropConnections: () => void;
  readonly close: () => Promise<void>;
}

export async function httpReceiver(answer: Answer = answerOk): Promise<HttpReceiver> {
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const recorded: ReceivedRequest = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      receiver.received.push(recorded);
      receiver.answer(recorded, response);
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const receiver: HttpReceiver = {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    received: [],
    answer,
    dropConnections: () => {
      server.closeAllConnections();
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => {
        server.close(() => {
          resolve();
        });
      });
    },
  };
  return receiver;
}

/** The address of a port that was just listened on and closed: nothing answers there. */
export async function closedPortUrl(): Promise<string> {
  const receiver = await httpReceiver();
  await receiver.close();
  return receiver.url;
}
