/**
 * meshlet's instruments on the application's meter (Prometheus and OTLP come from the
 * application's SDK, never from here). Labels are bounded (DESIGN §6): service, route name,
 * status class, outcome, and a few fixed words (shed reason, ejection reason kind); never a
 * path, an id or an endpoint address.
 *
 * `http.client.request.duration` follows the HTTP semconv (seconds, its advised buckets),
 * with one deliberate departure: `server.address` is the LOGICAL service name and
 * `server.port` is absent. The semconv's address and port name the endpoint, and a fleet of
 * endpoints that come and go would make one series per address per status on the hottest
 * instrument; per-endpoint latency belongs to the admin page and the attempt spans, which
 * carry the endpoint (`server.address`/`server.port`, `meshlet.endpoint`).
 *
 * `meshlet.client.calls` is an observable counter over meshlet's own counts (metric-series.ts
 * says why); the duration histograms are synchronous.
 *
 * Gauges (breaker state, healthy endpoints, config version, control-store health) are
 * observed at collection time from each live mesh's `state()` (gauge-meshes.ts): nothing is
 * kept up to date per call for them.
 */
import type { Counter, Histogram, Meter } from '@opentelemetry/api';
import { eachLiveMeshState, type MeshStateView } from './gauge-meshes.ts';
import type { CallCounts } from './metric-series.ts';

/** The semconv's advised boundaries for http.client.request.duration, in seconds. */
export const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

export interface Instruments {
  readonly attemptDuration: Histogram;
  /** What `meshlet.client.calls` (an observable counter) reports: counted per call by metric-series.ts. */
  readonly callCounts: CallCounts;
  readonly callDuration: Histogram;
  readonly retries: Counter;
  readonly hedges: Counter;
  readonly budgetExhausted: Counter;
  readonly shed: Counter;
  readonly ejections: Counter;
  readonly configRejections: Counter;
}

export function createInstruments(meter: Meter): Instruments {
  const advice = { explicitBucketBoundaries: DURATION_BUCKETS };
  const callCounts: CallCounts = new Map();
  const calls = meter.createObservableCounter('meshlet.client.calls', { unit: '{call}', description: 'Logical calls (retries and hedges count once).' });
  calls.addCallback((result) => {
    for (const series of callCounts.values()) result.observe(series.count, series.attributes);
  });
  const instruments: Instruments = {
    callCounts,
    attemptDuration: meter.createHistogram('http.client.request.duration', { unit: 's', description: 'Duration of HTTP client requests (one per attempt).', advice }),
    callDuration: meter.createHistogram('meshlet.client.call.duration', { unit: 's', description: 'Duration of logical calls, retries, hedges and backoff included.', advice }),
    retries: meter.createCounter('meshlet.client.retries', { unit: '{attempt}', description: 'Attempts retried.' }),
    hedges: meter.createCounter('meshlet.client.hedges', { unit: '{attempt}', description: 'Hedged attempts started.' }),
    budgetExhausted: meter.createCounter('meshlet.client.retry_budget.exhausted', { unit: '{attempt}', description: 'Retries or hedges refused because the retry budget was empty.' }),
    shed: meter.createCounter('meshlet.client.shed', { unit: '{call}', description: 'Calls refused by a rate limit or a concurrency limit.' }),
    ejections: meter.createCounter('meshlet.endpoint.ejections', { unit: '{ejection}', description: 'Endpoints ejected by outlier detection.' }),
    configRejections: meter.createCounter('meshlet.config.rejections', { unit: '{config}', description: 'Config snapshots rejected (the previous one stays in force).' }),
  };
  const breaker = meter.createObservableGauge('meshlet.breaker.state', { description: 'Circuit breaker state: 0 closed, 1 half-open, 2 open.' });
  const healthy = meter.createObservableGauge('meshlet.endpoints.healthy', { unit: '{endpoint}', description: 'Endpoints in rotation (not ejected).' });
  const endpoints = meter.createObservableGauge('meshlet.endpoints', { unit: '{endpoint}', description: 'Endpoints discovery reports.' });
  const version = meter.createObservableGauge('meshlet.config.version', { description: 'Version of the config snapshot in force.' });
  const control = meter.createObservableGauge('meshlet.control.healthy', { description: 'Control store reachable: 1 yes, 0 no (last good config kept).' });
  meter.addBatchObservableCallback(
    (result) => {
      for (const state of eachLiveMeshState()) observeMesh(state, result.observe.bind(result), { breaker, healthy, endpoints, version, control });
    },
    [breaker, healthy, endpoints, version, control],
  );
  return instruments;
}

type Observe = (gauge: never, value: number, attributes?: Record<string, string>) => void;
type Gauges = Record<'breaker' | 'healthy' | 'endpoints' | 'version' | 'control', unknown>;

const BREAKER_VALUES: Readonly<Record<string, number>> = { closed: 0, 'half-open': 1, open: 2 };

/** One mesh's gauges, from its state() (plain, redacted data). */
function observeMesh(state: MeshStateView, observe: Observe, gauges: Gauges): void {
  const meshAttributes = { 'meshlet.mesh': state.service ?? '' };
  const config = state.config;
  if (typeof config?.version === 'number') observe(gauges.version as never, config.version, meshAttributes);
  if (config?.control !== undefined) observe(gauges.control as never, config.control.status === 'unavailable' ? 0 : 1, meshAttributes);
  for (const [service, view] of Object.entries(state.services ?? {})) {
    // The mesh too: two meshes in one process observing one service name would otherwise be one series, one of them lost.
    const attributes = { ...meshAttributes, 'meshlet.service': service };
    const breakerState = view.breaker?.state;
    if (breakerState !== undefined && breakerState in BREAKER_VALUES) observe(gauges.breaker as never, BREAKER_VALUES[breakerState]!, attributes);
    const members = Array.isArray(view.endpoints) ? view.endpoints : [];
    observe(gauges.endpoints as never, members.length, attributes);
    observe(gauges.healthy as never, members.filter((member) => member.healthy === true).length, attributes);
  }
}
