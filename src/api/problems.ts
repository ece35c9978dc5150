/**
 * Errors as RFC 9457 problem details (`application/problem+json`) with a stable
 * `type`, a readable `detail` and, for bad input, the field's path. Nothing else
 * leaves the server: no stack trace, no internal message.
 */
import { maxHeaderSize, STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyServerOptions } from 'fastify';
import { storeFaultOf } from '../store/faults.js';

/** Seconds a client is told to wait before retrying a request the store could not take. */
export const STORE_RETRY_AFTER_S = 5;

export const PROBLEM_BASE = 'https://lightsout.dev/problems/';

export class Problem extends Error {
  override readonly name = 'Problem';
  constructor(
    readonly status: number,
    /** The last part of the stable type URI, e.g. `unknown-environment`. */
    readonly type: string,
    readonly title: string,
    readonly detail: string,
    /** The request field at fault, as a JSON path, e.g. `end_time`. */
    readonly field?: string,
  ) {
    super(detail);
  }
}

function problemJson(problem: Problem) {
  return {
    type: `${PROBLEM_BASE}${problem.type}`,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    ...(problem.field === undefined ? {} : { field: problem.field }),
  };
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).type('application/problem+json').send(problemJson(problem));
}

/**
 * Errors the framework answers before any route, hook or error handler: the
 * router's (a path that is not UTF-8 once decoded, a path part longer than
 * `maxParamLength`), and the ones Node's HTTP parser meets before there is a
 * request at all (`clientError`: a request line and headers over `maxHeaderSize`,
 * 16 KiB by default; bytes that are not HTTP; a request too slow to arrive).
 * Fastify's defaults answer those in its own JSON; these answer problems.
 */
export const frameworkProblems = {
  frameworkErrors(error: FastifyError, _request: unknown, reply: FastifyReply) {
    void sendProblem(reply, routerProblem(error));
  },
  clientErrorHandler(error: Error & { code?: string; rawPacket?: unknown }, socket: Socket) {
    // A reset connection has nobody left to answer (Node's own handler does the same).
    if (error.code === 'ECONNRESET' || socket.destroyed) return;
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    // No request nor reply exists yet: the answer is written on the socket itself
    // (https://nodejs.org/api/http.html#event-clienterror).
    const problem = connectionProblem(error);
    const body = JSON.stringify(problemJson(problem));
    socket.end(
      `HTTP/1.1 ${problem.status} ${STATUS_CODES[problem.status] ?? ''}\r\n` +
        'Content-Type: application/problem+json\r\n' +
        `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
  },
} satisfies Pick<FastifyServerOptions, 'frameworkErrors' | 'clientErrorHandler'>;

function routerProblem(error: FastifyError): Problem {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH')
    return new Problem(
      414,
      'uri-too-long',
      'URI too long',
      'a part of the path is longer than any name or id lightsout gives; check the URL',
    );
  return new Problem(
    400,
    'bad-url',
    'Bad URL',
    'the path is not valid percent-encoded UTF-8; encode it again',
  );
}

function connectionProblem(error: Error & { code?: string; rawPacket?: unknown }): Problem {
  if (error.code === 'ERR_HTTP_REQUEST_TIMEOUT')
    return new Problem(408, 'request-timeout', 'Request timeout', 'the request came too slowly');
  if (error.code === 'HPE_HEADER_OVERFLOW') {
    // The limit counts the request line and the headers together: when the request
    // line alone is over it (no line end within it), the URL is what is too long.
    const received = Buffer.isBuffer(error.rawPacket) ? error.rawPacket : Buffer.alloc(0);
    const lineEnd = received.indexOf('\r\n');
    const limit = `${Math.round(maxHeaderSize / 1024)} KiB`;
    return lineEnd === -1 || lineEnd > maxHeaderSize
      ? new Problem(414, 'uri-too-long', 'URI too long', `the URL is over ${limit}; shorten it`)
      : new Problem(
          431,
          'headers-too-large',
          'Headers too large',
          `the request line and headers are over ${limit}; send fewer or shorter headers`,
        );
  }
  return new Problem(400, 'bad-request', 'Bad request', 'the request is not valid HTTP/1.1');
}

/** Every error of the API's routes, known or not, answered as a problem. */
export function problemErrors(http: FastifyInstance, log: (error: unknown) => void): void {
  http.setErrorHandler((error: FastifyError | Problem, _request, reply) => {
    if (error instanceof Problem) return sendProblem(reply, error);
    const status = error.statusCode ?? 500;
    if (status === 429)
      return sendProblem(
        reply,
        new Problem(
          429,
          'rate-limited',
          'Too many requests',
          (error as { detail?: string }).detail ??
            'too many requests from this caller; retry later',
        ),
      );
    if (status === 413)
      return sendProblem(
        reply,
        new Problem(413, 'body-too-large', 'Body too large', 'the request body is over 64 KiB'),
      );
    if (status >= 400 && status < 500)
      return sendProblem(
        reply,
        new Problem(
          status,
          'bad-request',
          'Bad request',
          `the request is malformed: ${error.message}`,
        ),
      );
    // The store is away, frozen, full or read-only: the request changed nothing (its
    // transaction rolled back) and may be sent again.
    const fault = storeFaultOf(error);
    if (fault !== undefined)
      return sendProblem(
        reply.header('retry-after', String(STORE_RETRY_AFTER_S)),
        new Problem(
          503,
          'store-unavailable',
          'Store unavailable',
          `${fault.reason}; nothing was changed, retry later`,
        ),
      );
    log(error);
    return sendProblem(
      reply,
      new Problem(
        500,
        'internal',
        'Internal error',
        'something went wrong on the server; it is logged',
      ),
    );
  });
  http.setNotFoundHandler((request, reply) =>
    sendProblem(
      reply,
      new Problem(
        404,
        'not-found',
        'Not found',
        `there is no ${request.method} ${request.url.split('?')[0] ?? ''}`,
      ),
    ),
  );
}
