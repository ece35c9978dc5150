/**
 * The OpenAPI 3.1 document, built from the same zod schemas that validate the
 * requests (zod's own JSON Schema output), and a plain browsable reference at
 * /docs (no script, nothing fetched from elsewhere). Both are public: they
 * describe the API and hold no data.
 */
import { createRequire } from 'node:module';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  boostBody,
  cancelBody,
  extendBody,
  holdBody,
  provisionBody,
  reservationBody,
  sessionBody,
  stopBody,
} from './bodies.js';
import { signInPaths } from './oidc-routes.js';
import {
  eventsQuery,
  holdsQuery,
  reservationsQuery,
  runsQuery,
  savingsProjectionQuery,
  savingsQuery,
  timelineQuery,
} from './queries.js';

interface Route {
  readonly method: 'get' | 'post' | 'delete';
  /** OpenAPI path, `{name}` for parameters. */
  readonly path: string;
  readonly summary: string;
  /** The least role that may call it. */
  readonly role: 'viewer' | 'operator';
  readonly body?: z.ZodType;
  /** The query string it reads (the schema `parseQuery` validates it with). */
  readonly query?: z.ZodObject;
  readonly success: number;
}

export const ROUTES: readonly Route[] = [
  {
    method: 'get',
    path: '/api/v1/environments',
    summary: 'Environments the caller may see, with desired state and next transition',
    role: 'viewer',
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/environments/{name}',
    summary: 'One environment with its coming reservations and last runs',
    role: 'viewer',
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/environments/{name}/timeline',
    summary:
      'Its days in its zone: the schedule, reservations, holds and desired state; what really happened; the runs',
    role: 'viewer',
    query: timelineQuery,
    success: 200,
  },
  {
    method: 'post',
    path: '/api/v1/environments/{name}/start',
    summary: 'Start now',
    role: 'operator',
    success: 202,
  },
  {
    method: 'post',
    path: '/api/v1/environments/{name}/stop',
    summary: 'Warn, then stop after the grace',
    role: 'operator',
    body: stopBody,
    success: 202,
  },
  {
    method: 'post',
    path: '/api/v1/environments/{name}/extend',
    summary: 'Keep on until a time',
    role: 'operator',
    body: extendBody,
    success: 202,
  },
  {
    method: 'post',
    path: '/api/v1/environments/{name}/boost',
    summary: 'Scale services to their maximum for a while',
    role: 'operator',
    body: boostBody,
    success: 202,
  },
  {
    method: 'post',
    path: '/api/v1/reservations',
    summary: 'Reserve a window; overlaps merge; answers the on-windows',
    role: 'operator',
    body: reservationBody,
    success: 201,
  },
  {
    method: 'get',
    path: '/api/v1/reservations',
    summary: 'Reservations by environment, team and window',
    role: 'viewer',
    query: reservationsQuery,
    success: 200,
  },
  {
    method: 'delete',
    path: '/api/v1/reservations/{id}',
    summary: 'Delete a reservation made through the API or CLI',
    role: 'operator',
    success: 204,
  },
  {
    method: 'post',
    path: '/api/v1/holds',
    summary: 'Hold on or off until a time',
    role: 'operator',
    body: holdBody,
    success: 201,
  },
  {
    method: 'get',
    path: '/api/v1/holds',
    summary: 'Holds in force or to come',
    role: 'viewer',
    query: holdsQuery,
    success: 200,
  },
  {
    method: 'delete',
    path: '/api/v1/holds/{id}',
    summary: 'Delete a hold made through the API or CLI',
    role: 'operator',
    success: 204,
  },
  {
    method: 'get',
    path: '/api/v1/savings',
    summary: 'Hours off, money, energy and carbon saved, measured from the event log',
    role: 'viewer',
    query: savingsQuery,
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/savings/projection',
    summary: 'Projected savings over a window to come, now and with a proposed schedule',
    role: 'viewer',
    query: savingsProjectionQuery,
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/runs',
    summary: 'Recent runs, newest first',
    role: 'viewer',
    query: runsQuery,
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/runs/{id}',
    summary: 'One run with its steps',
    role: 'viewer',
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/runs/{id}/stream',
    summary:
      'One run as server-sent events (text/event-stream): `run` at connect and at each change, `end` when it is over',
    role: 'viewer',
    success: 200,
  },
  {
    method: 'post',
    path: '/api/v1/runs/{id}/cancel',
    summary: 'Cancel a stop during its grace',
    role: 'operator',
    body: cancelBody,
    success: 200,
  },
  {
    method: 'get',
    path: '/api/v1/events',
    summary:
      'The event log, filtered and searched: cursor pages, or the whole filter as NDJSON or CSV (Accept, or format=)',
    role: 'viewer',
    query: eventsQuery,
    success: 200,
  },
  {
    method: 'post',
    path: '/provision',
    summary: 'Reserve one EC2 instance alone for a window (the route people already use)',
    role: 'operator',
    body: provisionBody,
    success: 201,
  },
  { method: 'get', path: '/metrics', summary: 'Prometheus metrics', role: 'viewer', success: 200 },
];

const problem = {
  type: 'object',
  required: ['type', 'title', 'status', 'detail'],
  properties: {
    type: { type: 'string', format: 'uri' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    field: { type: 'string' },
  },
};

export function openApiDocument(version: string): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const parameters = [
      ...[...route.path.matchAll(/\{(\w+)\}/g)].map(([, name]) => ({
        name,
        in: 'path',
        required: true,
        schema: { type: 'string' },
      })),
      ...(route.query === undefined ? [] : queryParameters(route.query)),
    ];
    paths[route.path] ??= {};
    paths[route.path]![route.method] = {
      summary: route.summary,
      description:
        route.query === undefined
          ? `Needs the ${route.role} role.`
          : `Needs the ${route.role} role. Each query parameter at most once; others are refused (400 invalid-query).`,
      security: [{ bearer: [] }, { session: [] }],
      ...(parameters.length === 0 ? {} : { parameters }),
      ...(route.body === undefined
        ? {}
        : {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: bodySchema(route.body) } },
            },
          }),
      responses: {
        [String(route.success)]: { description: 'Done' },
        default: {
          description: 'A problem (RFC 9457)',
          content: {
            'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
          },
        },
      },
    };
  }
  paths['/api/v1/session'] = sessionPaths();
  Object.assign(paths, signInPaths());
  return {
    openapi: '3.1.0',
    info: { title: 'lightsout', version },
    paths,
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        session: {
          type: 'apiKey',
          in: 'cookie',
          name: 'lightsout_session',
          description:
            "The dashboard's session (POST /api/v1/session). A change made with it must also send X-CSRF-Token.",
        },
      },
      schemas: { Problem: problem },
    },
  };
}

/** The dashboard's sign-in, who-am-I and sign-out (see docs/dashboard.md). */
function sessionPaths(): Record<string, unknown> {
  const problems = {
    description: 'A problem (RFC 9457)',
    content: {
      'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } },
    },
  };
  return {
    post: {
      summary:
        "Sign in: exchange an API token (or the demo link's one-time code) for a session cookie",
      description:
        'Open to all (rate-limited by address). Answers the caller and the CSRF token its changes must send.',
      security: [],
      requestBody: {
        required: true,
        content: { 'application/json': { schema: bodySchema(sessionBody) } },
      },
      responses: {
        '200': { description: 'Signed in; Set-Cookie holds the session' },
        default: problems,
      },
    },
    get: {
      summary: "The session's caller and CSRF token",
      security: [{ session: [] }],
      responses: { '200': { description: 'Signed in' }, default: problems },
    },
    delete: {
      summary: 'Sign out: the session cookie is cleared',
      description: 'Needs the X-CSRF-Token header with a session.',
      security: [{ bearer: [] }, { session: [] }],
      responses: { '204': { description: 'Signed out' }, default: problems },
    },
  };
}

/** One OpenAPI parameter per field of a route's query schema, each given at most once. */
function queryParameters(schema: z.ZodObject): Record<string, unknown>[] {
  const json = bodySchema(schema) as {
    properties?: Record<string, Record<string, unknown>>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, { description, ...property }]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    ...(description === undefined ? {} : { description }),
    schema: property,
  }));
}

function bodySchema(schema: z.ZodType): Record<string, unknown> {
  // The document declares its own dialect (3.1 is JSON Schema 2020-12).
  const json: Record<string, unknown> = { ...z.toJSONSchema(schema, { io: 'input' }) };
  delete json.$schema;
  return json;
}

// src/api and dist/api both sit two levels below package.json.
const { version: VERSION } = createRequire(import.meta.url)('../../package.json') as {
  version: string;
};

export function registerOpenApi(http: FastifyInstance): void {
  const document = openApiDocument(VERSION);
  http.get('/openapi.json', () => document);
  http.get('/docs', (_request, reply) => reply.type('text/html; charset=utf-8').send(docsPage()));
}

function docsPage(): string {
  const escape = (text: string) =>
    text.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  const rows = ROUTES.map(
    (r) =>
      `<tr><td><code>${r.method.toUpperCase()}</code></td><td><code>${escape(r.path)}</code></td><td>${escape(r.summary)}</td><td>${r.role}</td></tr>`,
  ).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>lightsout API</title>
<style>body{font:15px system-ui;margin:2rem}td{padding:.3rem .8rem;border-bottom:1px solid #ddd}</style></head>
<body><h1>lightsout API</h1>
<p>Send <code>Authorization: Bearer &lt;token&gt;</code> (<code>lightsout token create</code>). Errors are <code>application/problem+json</code>. The machine-readable document: <a href="/openapi.json">/openapi.json</a>.</p>
<table><thead><tr><th>method</th><th>path</th><th>what</th><th>role</th></tr></thead><tbody>
${rows}
</tbody></table></body></html>`;
}
