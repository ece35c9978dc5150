/**
 * Errors as RFC 9457 problem details (`application/problem+json`) with a stable
 * `type`, a readable `detail` and, for bad input, the field's path. Nothing else
 * leaves the server: no stack trace, no internal message.
 */
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
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

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send({
      type: `${PROBLEM_BASE}${problem.type}`,
      title: problem.title,
      status: problem.status,
      detail: problem.detail,
      ...(problem.field === undefined ? {} : { field: problem.field }),
    });
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
