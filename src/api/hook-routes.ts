/**
 * `POST /hooks/NAME` and `POST /hooks/sns/NAME` (switches/hooks.ts): no token,
 * the message's signature is the credential. In a scope of their own, where the
 * body stays the raw text the signature covers (any content type: SNS posts
 * text/plain), and never reaches the API's JSON parser.
 */
import type { FastifyInstance } from 'fastify';
import type { Environment } from '../core/glossary.js';
import type { ApiDeps } from './context.js';
import { HookRefused, HookSwitches } from '../switches/hooks.js';
import type { HookOutcome } from '../switches/hooks.js';
import { Problem } from './problems.js';

/** SNS messages are up to 256 KiB; their JSON envelope and escaping add some. */
const SNS_BODY_LIMIT = 320 * 1024;

export async function registerHooks(
  http: FastifyInstance,
  deps: ApiDeps,
  environments: ReadonlyMap<string, Environment>,
): Promise<void> {
  if (deps.hooks === undefined) return;
  const hooks = new HookSwitches(deps.hooks, deps.engine, environments, deps.now);
  // eslint-disable-next-line @typescript-eslint/require-await -- fastify awaits a plugin's promise
  await http.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => {
      done(null, body);
    });
    const answer = async (work: () => Promise<HookOutcome>) => {
      try {
        const { said, runId, again } = await work();
        return { said, ...(runId === undefined ? {} : { runId }), ...(again ? { again } : {}) };
      } catch (error) {
        if (error instanceof HookRefused)
          throw new Problem(error.status, error.type, error.title, error.message, error.field);
        throw error;
      }
    };
    const text = (body: unknown) => (typeof body === 'string' ? body : '');

    scope.post<{ Params: { name: string } }>('/hooks/:name', async (request, reply) => {
      const said = await answer(() =>
        hooks.signed(
          request.params.name,
          request.headers['x-lightsout-timestamp'],
          request.headers['x-lightsout-signature'],
          text(request.body),
        ),
      );
      return reply.code(202).send(said);
    });

    // SNS counts any 2xx as delivered and retries only on server errors.
    scope.post<{ Params: { name: string } }>(
      '/hooks/sns/:name',
      { bodyLimit: SNS_BODY_LIMIT },
      async (request, reply) => {
        const said = await answer(() => hooks.sns(request.params.name, text(request.body)));
        return reply.code(200).send(said);
      },
    );
  });
}
