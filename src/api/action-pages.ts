/**
 * The pages behind a warning's action links. `GET /actions?token=TOKEN` changes
 * nothing: it says what the link will do and asks to confirm, because mail
 * scanners and chat previews fetch links before anyone clicks them. The form
 * posts to the same address, which carries the action out once through the
 * engine and says what happened. A link used twice, expired, or for a stop that
 * already happened or was called off gets a page that says so and changes nothing.
 */
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { ActionLinks } from '../switches/action-links.js';
import { LinkRefused } from '../switches/link-actions.js';

interface TokenQuery {
  Querystring: { token?: string | string[] };
}

/**
 * The token travels in the query: it is longer than a path part may be (the
 * router's 100 characters), and it is the same on the form's POST, which goes to
 * the page's own address.
 */
function tokenOf(query: TokenQuery['Querystring']): string {
  return typeof query.token === 'string' ? query.token : '';
}

const TITLES: Record<LinkRefused['reason'], string> = {
  invalid: 'This link is not valid',
  expired: 'This link has expired',
  used: 'This link was already used',
  settled: 'This link no longer applies',
};

/** 404 for a link we never made, 410 Gone for one that was good once. */
const CODES: Record<LinkRefused['reason'], number> = {
  invalid: 404,
  expired: 410,
  used: 410,
  settled: 409,
};

/** What the pages need of the links. */
export type LinkPages = Pick<ActionLinks, 'preview' | 'use' | 'pageActor'>;

export function registerActionPages(http: FastifyInstance, links: LinkPages): void {
  void http.register((scope, _options, done) => {
    // The confirmation form posts urlencoded; its body carries nothing we read.
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: 1024 },
      (_request, _body, parsed) => {
        parsed(null, {});
      },
    );

    scope.get<TokenQuery>('/actions', async (request, reply) => {
      try {
        const preview = await links.preview(tokenOf(request.query));
        page(
          reply,
          200,
          `${preview.label}: ${preview.environment}?`,
          `<p>This will ${escapeHtml(preview.effect)}.</p>
<form method="post"><button type="submit">${escapeHtml(preview.label)}</button></form>
<p class="small">Run ${escapeHtml(preview.claims.runId)}</p>`,
        );
      } catch (error) {
        refusal(reply, error);
      }
      return reply;
    });

    scope.post<TokenQuery>('/actions', async (request, reply) => {
      const token = tokenOf(request.query);
      try {
        const outcome = await links.use(token, links.pageActor(token));
        page(
          reply,
          200,
          'Done',
          `<p>${escapeHtml(outcome.said)}.</p><p class="small">Run ${escapeHtml(outcome.runId)}</p>`,
        );
      } catch (error) {
        refusal(reply, error);
      }
      return reply;
    });
    done();
  });
}

function refusal(reply: FastifyReply, error: unknown): void {
  if (!(error instanceof LinkRefused)) throw error;
  page(reply, CODES[error.reason], TITLES[error.reason], `<p>${escapeHtml(error.message)}</p>`);
}

function page(reply: FastifyReply, code: number, title: string, body: string): void {
  void reply
    .code(code)
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .type('text/html; charset=utf-8').send(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${escapeHtml(title)} · lightsout</title>
<style>
body { font: 16px/1.5 system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; color: #1b1b1b; }
button { font: inherit; padding: .6rem 1.2rem; border: 0; border-radius: .4rem; background: #1d4ed8; color: #fff; cursor: pointer; }
.small { color: #555; font-size: .85rem; }
</style>
</head>
<body>
<h1>${escapeHtml(title)}</h1>
${body}
</body>
</html>
`);
}

export function escapeHtml(text: string): string {
  return text
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}
