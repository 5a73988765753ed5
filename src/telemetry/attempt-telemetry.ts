/**
 * The per-attempt telemetry layer, directly above the transport, below the balancer: the
 * endpoint is known here, so the attempt's CLIENT span has `server.address`/`server.port`
 * from its start (the HTTP semconv asks for them at start, for samplers), and what it
 * measures is one request on the wire, retries and hedges each their own.
 *
 * An attempt of a call nobody observes (its call carries no CallRecord: one property read on
 * the shared empty attributes) goes straight to the transport's callback form. An observed
 * one publishes `meshlet:attempt:start`/`end`, gets its span (child of the call's span), the
 * W3C headers of that span on a copy of its headers (the caller's are never touched), is
 * dispatched under the suppress-tracing context (otel-tracing.ts: no second CLIENT span or
 * traceparent from instrumentation-undici), and records `http.client.request.duration`.
 * The attempt ends when its response head arrives or it fails, as undici's own callback
 * does; the body the caller reads afterwards is the caller's time.
 */
import diagnosticsChannel from 'node:diagnostics_channel';
import { type Context, context, type Span, SpanStatusCode } from '@opentelemetry/api';
import type { Attempt, AttemptObserver } from '../core/attempt.ts';
import { outcomeOfError } from '../core/outcome.ts';
import type { MeshRequest, MeshResponse, Reply, Service } from '../core/service.ts';
import { type AttemptEndMessage, type AttemptStartMessage, attemptEndChannel, attemptStartChannel } from './channels.ts';
import { type CallRecord, errorCodeOf, recordOf } from './call-record.ts';
import { whileEnding } from './call-span.ts';
import { forward, promised, reportLater } from './forward.ts';
import { otel } from './otel-state.ts';
import { DISPATCH_CONTEXT, injectSpan, SpanKind, semconvMethod, startSpan } from './otel-tracing.ts';
import { UrlShapes } from './span-shapes.ts';

/** Where undici announces each request it creates: what instrumentation-undici listens to. */
const undiciRequestChannel = diagnosticsChannel.channel('undici:request:create');

export class AttemptTelemetryService implements Service {
  readonly #transport: Service;
  /** The attempt spans' url.full per endpoint (span-shapes.ts). */
  readonly #urls = new UrlShapes();
  readonly send: Service['send'];

  constructor(transport: Service) {
    this.#transport = transport;
    // NOTE: always offered (the balancer above keeps its callback form only if this has one).
    this.send = this.#send;
  }

  call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    const record = recordOf(attempt.call);
    if (record === undefined) return this.#transport.call(request, attempt);
    return promised((reply) => this.#observe(record, request, attempt, reply));
  }

  #send(request: MeshRequest, attempt: Attempt, reply: Reply): void {
    const record = recordOf(attempt.call);
    if (record !== undefined) this.#observe(record, request, attempt, reply);
    else if (this.#transport.send !== undefined) this.#transport.send(request, attempt, reply);
    else forward(this.#transport, request, attempt, reply);
  }

  #observe(record: CallRecord, request: MeshRequest, attempt: Attempt, reply: Reply): void {
    const resends = record.attempts;
    record.attempts++;
    const ended = new AttemptEnd(record, attempt, reply);
    // The balancer hears the attempt's end through this record, so an ejection it causes finds the call's span (call-span.ts).
    if (attempt.observer !== undefined && otel.tracing) {
      ended.observer = attempt.observer;
      attempt.observer = ended;
    }
    if (attemptStartChannel.hasSubscribers) attemptStartChannel.publish(ended.startMessage());
    if (!otel.tracing || record.context === undefined) {
      forward(this.#transport, request, attempt, ended);
      return;
    }
    try {
      const span = startAttemptSpan(record, request, attempt, resends, this.#urls);
      ended.span = span;
      attempt.headers = withPropagation(attempt.headers ?? request.headers, record.context, span);
    } catch (bug) {
      // NOTE: a throwing tracer or propagator must not fail the attempt: it goes without them.
      reportLater(bug);
      forward(this.#transport, request, attempt, ended);
      return;
    }
    // The suppress-tracing context only matters to someone hooked into undici's requests
    // (instrumentation-undici subscribes to this channel): without one, the context switch
    // per attempt is skipped.
    if (undiciRequestChannel.hasSubscribers) {
      // The transport answers in the context it was called in: the layers above (retry, balancer)
      // get the result back in the one they called in (the call's own, with a breaker: call-span.ts).
      ended.callContext = context.active();
      context.with(DISPATCH_CONTEXT, forward, undefined, this.#transport, request, attempt, ended);
    } else forward(this.#transport, request, attempt, ended);
  }
}

/**
 * The attempt's CLIENT span. NOTE: the attributes a sampler may read (the semconv's
 * sampling-relevant method, address, port and URL) are passed at start; meshlet's own are set
 * after, and only on a recording span: the SDK cleans start attributes twice (once for the
 * sampler, once for the span), setAttribute once, so this halves their cost, and a span a
 * sampler dropped costs none.
 */
function startAttemptSpan(record: CallRecord, request: MeshRequest, attempt: Attempt, resends: number, urls: UrlShapes): Span {
  const endpoint = attempt.endpoint;
  const method = semconvMethod(request.method);
  const attributes: Record<string, string | number> = { 'http.request.method': method };
  if (method === '_OTHER') attributes['http.request.method_original'] = request.method;
  if (endpoint !== undefined) {
    attributes['server.address'] = endpoint.address.host;
    attributes['server.port'] = endpoint.address.port;
    attributes['url.full'] = urls.url(endpoint, request.path);
  }
  const span = startSpan(method === '_OTHER' ? 'HTTP' : method, SpanKind.CLIENT, attributes, record.context!);
  if (!span.isRecording()) return span;
  span.setAttribute('meshlet.service', record.service);
  span.setAttribute('meshlet.hedge', attempt.hedge);
  if (endpoint !== undefined) span.setAttribute('meshlet.endpoint', endpoint.address.id);
  if (resends > 0) span.setAttribute('http.request.resend_count', resends);
  if (record.route !== undefined) span.setAttribute('meshlet.route', record.route);
  if (record.subset !== undefined) span.setAttribute('meshlet.subset', record.subset);
  const breaker = record.breakerState();
  if (breaker !== undefined) span.setAttribute('meshlet.breaker.state', breaker);
  return span;
}

/**
 * The attempt's headers with the attempt span's propagation headers, written straight into a
 * copy (the caller's and the attempt layer's shared ones are never touched; no carrier object
 * in between). The transport sends them (`Attempt.headers`).
 */
function withPropagation(headers: MeshRequest['headers'], parent: Context, span: Span): MeshRequest['headers'] {
  const own: Record<string, string | string[]> = { ...headers };
  injectSpan(parent, span, own as Record<string, string>);
  return own;
}

/** Ends the attempt's telemetry, then hands its result on to the balancer's reply; tells the balancer's observer of the end on the call's behalf. */
class AttemptEnd implements Reply, AttemptObserver {
  readonly #record: CallRecord;
  readonly #attempt: Attempt;
  readonly #reply: Reply;
  readonly #startedAt: number;
  span: Span | undefined = undefined;
  /** Set when the attempt was dispatched in a context of its own: the one to hand its result back in. */
  callContext: Context | undefined = undefined;
  /** The balancer, when this stands in for it as the attempt's observer. */
  observer: AttemptObserver | undefined = undefined;

  constructor(record: CallRecord, attempt: Attempt, reply: Reply) {
    this.#record = record;
    this.#attempt = attempt;
    this.#reply = reply;
    this.#startedAt = attempt.attemptAt;
  }

  startMessage(): AttemptStartMessage {
    const attempt = this.#attempt;
    return { mesh: this.#record.mesh, service: this.#record.service, attempt: attempt.number, hedge: attempt.hedge, endpoint: attempt.endpoint?.address.id ?? '', method: this.#record.method, startedAt: this.#startedAt };
  }

  attemptEnded(attempt: Attempt, error: unknown): void {
    whileEnding(this.#record, this.observer!, attempt, error);
  }

  resolve(response: MeshResponse): void {
    this.#end(response, undefined);
    if (this.callContext === undefined) this.#reply.resolve(response);
    else context.with(this.callContext, this.#reply.resolve, this.#reply, response);
  }

  reject(error: unknown): void {
    this.#end(undefined, error);
    if (this.callContext === undefined) this.#reply.reject(error);
    else context.with(this.callContext, this.#reply.reject, this.#reply, error);
  }

  #end(response: MeshResponse | undefined, error: unknown): void {
    try {
      this.#report(response, error);
    } catch (bug) {
      // NOTE: telemetry must never change an attempt's result.
      reportLater(bug);
    }
  }

  #report(response: MeshResponse | undefined, error: unknown): void {
    const attempt = this.#attempt;
    const durationMs = this.#record.clock.now() - this.#startedAt;
    const statusCode = response?.statusCode;
    const outcome = attempt.outcome ?? outcomeOfError(error);
    const failed = outcome.kind === 'failure';
    const errorType = error !== undefined ? errorCodeOf(error) : failed ? String(statusCode) : undefined;
    if (attemptEndChannel.hasSubscribers) {
      const message: AttemptEndMessage = { ...this.startMessage(), durationMs, statusCode, outcome: outcome.kind, condition: outcome.condition, errorType };
      attemptEndChannel.publish(message);
    }
    // The semconv's error.type: the status code for any 4xx/5xx, else the failure's type.
    const semconvError = statusCode !== undefined && statusCode >= 400 ? String(statusCode) : errorType;
    const span = this.span;
    if (span !== undefined) {
      if (statusCode !== undefined) span.setAttribute('http.response.status_code', statusCode);
      if (semconvError !== undefined) {
        span.setAttribute('error.type', semconvError);
        span.setStatus({ code: SpanStatusCode.ERROR, message: semconvError });
      }
      span.end();
    }
    const instruments = otel.instruments;
    if (instruments !== undefined) {
      instruments.attemptDuration.record(durationMs / 1000, this.#record.series.attempt(semconvMethod(this.#record.method), statusCode, semconvError));
    }
  }
}
