/**
 * `/metrics` in the Prometheus text format (prom-client). Fleet-wide numbers come
 * from the store at scrape time, so every replica agrees and restarts lose
 * nothing; the transition lag histogram covers the last 1,000 scheduled runs.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Store } from '../store/store.js';
import type { Principal } from './auth.js';

export function registerMetrics(
  http: FastifyInstance,
  store: Pick<Store, 'stats'>,
  caller: (request: FastifyRequest) => Promise<Principal>,
): void {
  const registry = new Registry();
  collectDefaultMetrics({
    register: registry,
    prefix: 'lightsout_process_',
    // prom-client samples the event loop's delay every 10 ms by default: 100 wake-ups a
    // second, about 5 ms of CPU a second in an idle `serve` (1.3 s over a stop of
    // minutes). Every 100 ms still gives a scrape hundreds of samples, and a blocked
    // loop shows in the maximum whatever the rate.
    eventLoopMonitoringPrecision: 100,
  });
  let latest: Awaited<ReturnType<Store['stats']>> | undefined;
  const counter = (name: string, help: string, labels: string[], fill: (c: Counter) => void) =>
    new Counter({
      name,
      help,
      labelNames: labels,
      registers: [registry],
      collect() {
        this.reset();
        fill(this);
      },
    });
  counter('lightsout_runs_total', 'Runs by direction and status.', ['direction', 'status'], (c) => {
    for (const r of latest?.runs ?? [])
      c.inc({ direction: r.direction, status: r.status }, r.count);
  });
  counter(
    'lightsout_actions_total',
    'Resource actions by kind and outcome.',
    ['kind', 'outcome'],
    (c) => {
      for (const a of latest?.actions ?? []) c.inc({ kind: a.kind, outcome: a.status }, a.count);
    },
  );
  counter('lightsout_notices_total', 'Notices by outcome.', ['outcome'], (c) => {
    for (const n of latest?.notices ?? [])
      c.inc({ outcome: n.kind === 'notice.sent' ? 'sent' : 'failed' }, n.count);
  });
  new Gauge({
    name: 'lightsout_resources',
    help: 'Known resources by kind and last state.',
    labelNames: ['kind', 'state'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of latest?.resources ?? []) this.set({ kind: r.kind, state: r.state }, r.count);
    },
  });
  new Histogram({
    name: 'lightsout_transition_lag_seconds',
    help: "From a scheduled run's act instant to its first action (last 1,000 scheduled runs).",
    buckets: [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60],
    registers: [registry],
    collect() {
      this.reset();
      for (const lag of latest?.lags ?? []) this.observe(lag);
    },
  });
  // Like everything but health, metrics need a token (Prometheus sends one with `authorization`).
  http.get('/metrics', async (request, reply) => {
    await caller(request);
    latest = await store.stats();
    return reply.type(registry.contentType).send(await registry.metrics());
  });
}
