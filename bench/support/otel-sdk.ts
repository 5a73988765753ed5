/**
 * The OpenTelemetry SDK as an application would run it, for the overhead bench's telemetry
 * rows: every span sampled (the default AlwaysOn sampler) through a BatchSpanProcessor into an
 * exporter that drops the batch (the bench measures meshlet and the SDK, not a backend), the
 * async-hooks context manager, the W3C propagator, and, with `metrics`, a meter provider whose
 * periodic reader exports every second to an exporter that drops it.
 */
import { context, type Meter, metrics, propagation, type SpanContext, SpanKind, type Tracer, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { AggregationTemporality, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';

const dropped = (_items: unknown, done: (result: { code: number }) => void): void => done({ code: ExportResultCode.SUCCESS });

export function installBenchSdk(options: { metrics: boolean }): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const exporter = { export: dropped, shutdown: async () => {} };
  trace.setGlobalTracerProvider(new TracerProvider({ spanProcessors: [new BatchSpanProcessor({ exporter })] }));
  if (!options.metrics) return;
  const metricExporter = { export: dropped, shutdown: async () => {}, forceFlush: async () => {}, selectAggregationTemporality: () => AggregationTemporality.CUMULATIVE };
  metrics.setGlobalMeterProvider(new MeterProvider({ readers: [new PeriodicExportingMetricReader({ exporter: metricExporter, exportIntervalMillis: 1000 })] }));
}

/** The semconv's advised boundaries for http.client.request.duration (as meshlet's instruments have them). */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];

/**
 * The floor of the `+ SDK` rows: what DESIGN §6 asks of one call, done by hand around a bare
 * undici request with the SDK installBenchSdk set up, and nothing else. Per call: an INTERNAL span
 * with 2 attributes, a CLIENT child with the semconv's 4 sampling attributes at start and
 * meshlet's 3 set after, the W3C headers of the child written into a fresh headers object, on
 * the response head the status on both and the attempt count on the logical one, both ended
 * (the body is the caller's time, as in meshlet), and with `withMetrics` the two duration
 * histograms recorded on attribute objects made once. Written as an application would with
 * the api (trace.setSpan for the child's parent and for the propagator), no meshlet tricks.
 */
export function handTraced<T extends { statusCode: number }>(port: number, withMetrics: boolean, send: (headers: Record<string, string>, done: (error: Error | null, response: T) => void) => void): () => Promise<T> {
  const tracer = trace.getTracer('floor');
  const meter = metrics.getMeter('floor');
  const advice = { explicitBucketBoundaries: BUCKETS };
  const attemptDuration = meter.createHistogram('http.client.request.duration', { unit: 's', advice });
  const callDuration = meter.createHistogram('meshlet.client.call.duration', { unit: 's', advice });
  const attemptAttributes = Object.freeze({ 'http.request.method': 'GET', 'server.address': 'api', 'http.response.status_code': 200 });
  const callAttributes = Object.freeze({ 'meshlet.service': 'api', 'meshlet.status_class': '2xx', 'meshlet.outcome': 'success' });
  const url = `http://127.0.0.1:${port}/`;
  const endpoint = `127.0.0.1:${port}`;
  // NOTE: undici's callback form inside one promise, so the floor makes the promises bare undici's promise form does and no more.
  return () =>
    new Promise<T>((resolve, reject) => {
      const startedAt = performance.now();
      const parent = context.active();
      const call = tracer.startSpan('GET api', { kind: SpanKind.INTERNAL, attributes: { 'meshlet.service': 'api', 'http.request.method': 'GET' } }, parent);
      const callContext = trace.setSpan(parent, call);
      const attempt = tracer.startSpan('GET', { kind: SpanKind.CLIENT, attributes: { 'http.request.method': 'GET', 'server.address': '127.0.0.1', 'server.port': port, 'url.full': url } }, callContext);
      attempt.setAttribute('meshlet.service', 'api');
      attempt.setAttribute('meshlet.hedge', false);
      attempt.setAttribute('meshlet.endpoint', endpoint);
      const headers: Record<string, string> = {};
      propagation.inject(trace.setSpan(callContext, attempt), headers);
      send(headers, (error, response) => {
        if (error !== null) {
          attempt.setAttribute('error.type', error.name);
          attempt.end();
          call.end();
          reject(error);
          return;
        }
        attempt.setAttribute('http.response.status_code', response.statusCode);
        attempt.end();
        call.setAttribute('meshlet.attempts', 1);
        call.setAttribute('http.response.status_code', response.statusCode);
        call.end();
        if (withMetrics) {
          const seconds = (performance.now() - startedAt) / 1000;
          attemptDuration.record(seconds, attemptAttributes);
          callDuration.record(seconds, callAttributes);
        }
        resolve(response);
      });
    });
}

/**
 * A diagnostic, not a setup anyone runs: a tracer provider whose spans record and do nothing
 * and a meter provider whose instruments drop, with the same context manager and propagator.
 * meshlet takes its whole observed path (spans started, attributes set, headers injected,
 * metrics recorded) while the SDK costs nothing, so a row with it shows meshlet's own share of
 * the `+ SDK` rows. (In memory, 2026-12-02: +3.7 KB per call over meshlet without an SDK, all of
 * it on the tracing side; the metrics side allocates nothing per call.)
 */
export function installNoopSdk(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  const spanContext = { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: '00f067aa0ba902b7', traceFlags: 1 };
  const tracer = { startSpan: () => new RecordingNoopSpan(spanContext), startActiveSpan: () => undefined };
  trace.setGlobalTracerProvider({ getTracer: () => tracer as unknown as Tracer });
  const instrument = { add() {}, record() {}, addCallback() {}, removeCallback() {} };
  const meter = {
    createHistogram: () => instrument,
    createCounter: () => instrument,
    createUpDownCounter: () => instrument,
    createGauge: () => instrument,
    createObservableCounter: () => instrument,
    createObservableGauge: () => instrument,
    createObservableUpDownCounter: () => instrument,
    addBatchObservableCallback() {},
    removeBatchObservableCallback() {},
  };
  metrics.setGlobalMeterProvider({ getMeter: () => meter as unknown as Meter });
}

/** A span that says it records (so meshlet sets its attributes) and keeps nothing. */
class RecordingNoopSpan {
  readonly #context: SpanContext;
  constructor(spanContext: SpanContext) {
    this.#context = spanContext;
  }
  spanContext(): SpanContext {
    return this.#context;
  }
  isRecording(): boolean {
    return true;
  }
  setAttribute(): this {
    return this;
  }
  setAttributes(): this {
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(): this {
    return this;
  }
  updateName(): this {
    return this;
  }
  end(): void {}
  recordException(): void {}
}
