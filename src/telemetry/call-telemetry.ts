/**
 * The logical-call telemetry layer, outermost in the stack (DESIGN §2 step 1: the logical
 * span and the call metrics; everything below runs inside it). It asks `observing()` on every
 * call (observed.ts: field reads) and, when nobody observes, hands the call on in the form it
 * came in: the callback form stays the callback form, so a default stack keeps its one
 * promise per call and allocates nothing here. When someone observes, the call gets a
 * CallRecord in its attributes (call-record.ts), through which the attempt layer and the
 * mesh events fired during the call (retries, hedges, ejections: call-span.ts) find its span,
 * and its end publishes `meshlet:call:end`, ends the span and records the call metrics. It
 * runs inside its span's context only in a stack with a breaker, whose transitions can be
 * traced to their call no other way (call-span.ts); entering a context costs ~1 KB a call.
 */
import { context } from '@opentelemetry/api';
import { Attempt } from '../core/attempt.ts';
import { type Call, newCall } from '../core/call-context.ts';
import type { LayerEnv } from '../core/layer-env.ts';
import { toCallerError } from '../core/mesh-errors.ts';
import type { Layer, MeshRequest, MeshResponse, Reply, Service } from '../core/service.ts';
import { type BreakerView, breakerView } from './breaker-view.ts';
import { CALL_RECORD, CallRecord } from './call-record.ts';
import { forward, promised, reportLater } from './forward.ts';
import { meshIdOf } from './mesh-id.ts';
import { MetricSeries } from './metric-series.ts';
import { observing } from './observed.ts';
import { CallSpanShapes } from './span-shapes.ts';

export class CallTelemetryService implements Service {
  readonly #inner: Service;
  readonly #env: LayerEnv;
  /** The mesh whose stack this is (its messages say so: the channels are process-wide). */
  readonly #mesh: number;
  readonly #route: string | undefined;
  readonly #subset: string | undefined;
  /** The service's breaker layer, and its state as the attempt spans carry it (breaker-view.ts); undefined: none configured. */
  readonly #breakerLayer: Layer | undefined;
  readonly #breaker: BreakerView | undefined;
  /** True when the stack has a circuit (its view was seeded with a state): its calls run in their span's context (call-span.ts). */
  readonly #inContext: boolean;
  /** The metric attribute sets of this stack's calls (metric-series.ts), made by the first observed call. */
  #series: MetricSeries | undefined = undefined;
  /** The logical spans' names and start attributes (span-shapes.ts), likewise. */
  #shapes: CallSpanShapes | undefined = undefined;
  readonly send: Service['send'];

  constructor(inner: Service, env: LayerEnv, breaker: Layer | undefined, route: string | undefined = undefined, subset: string | undefined = undefined) {
    this.#inner = inner;
    this.#env = env;
    this.#mesh = meshIdOf(env.events);
    this.#breakerLayer = breaker;
    this.#breaker = breaker === undefined ? undefined : breakerView(env.events, env.service, breaker);
    this.#inContext = this.#breaker?.state !== undefined;
    this.#route = route;
    this.#subset = subset;
    if (inner.send !== undefined) this.send = this.#send;
  }

  /** The same stack, naming its calls' route and target subset (a routed service's target stacks are shared by routes). */
  forRoute(route: string | undefined, subset: string | undefined): CallTelemetryService {
    return route === this.#route && subset === this.#subset ? this : new CallTelemetryService(this.#inner, this.#env, this.#breakerLayer, route, subset);
  }

  call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    if (!observing()) return this.#inner.call(request, attempt);
    return promised((reply) => this.#observe(request, attempt, reply));
  }

  #send(request: MeshRequest, attempt: Attempt, reply: Reply): void {
    if (!observing()) this.#inner.send!(request, attempt, reply);
    else this.#observe(request, attempt, reply);
  }

  #observe(request: MeshRequest, attempt: Attempt, reply: Reply): void {
    let record: CallRecord;
    try {
      record = new CallRecord(this.#mesh, request, attempt.call, this.#route, this.#subset, this.#env, this.#breaker, this.#seriesOf(attempt.call.service), this.#shapesOf(attempt.call.service));
    } catch (bug) {
      // NOTE: telemetry never fails a call: a throwing tracer or propagator costs its record only.
      reportLater(bug);
      forward(this.#inner, request, attempt, reply);
      return;
    }
    const first = Attempt.first(withRecord(attempt.call, record));
    const ended = new CallEnd(record, reply, this.#env);
    if (record.context === undefined || !this.#inContext) forward(this.#inner, request, first, ended);
    else context.with(record.context, forward, undefined, this.#inner, request, first, ended);
  }

  #shapesOf(service: string): CallSpanShapes {
    const shapes = this.#shapes;
    if (shapes !== undefined && shapes.service === service) return shapes;
    this.#shapes = new CallSpanShapes(service, this.#route);
    return this.#shapes;
  }

  #seriesOf(service: string): MetricSeries {
    const series = this.#series;
    if (series !== undefined && series.service === service) return series;
    this.#series = new MetricSeries(service, this.#route);
    return this.#series;
  }
}

/**
 * The call as the layers below see it: the same, with its record in its attributes. NOTE: each
 * field read by name, not spread: the client's call keeps its deadline, inbound request and
 * attributes in getters (mesh/client-call.ts), which a spread leaves out.
 */
function withRecord(call: Call, record: CallRecord): Call {
  return newCall(call.service, call.startedAt, call.deadline, call.signal, call.inbound, Object.freeze({ ...call.attributes, [CALL_RECORD]: record }));
}

/** Ends the record, then settles the caller's reply; a failure leaves as the MeshError the caller gets. */
class CallEnd implements Reply {
  readonly #record: CallRecord;
  readonly #reply: Reply;
  readonly #env: LayerEnv;
  #settled = false;

  constructor(record: CallRecord, reply: Reply, env: LayerEnv) {
    this.#record = record;
    this.#reply = reply;
    this.#env = env;
  }

  resolve(response: MeshResponse): void {
    if (this.#settled) return;
    this.#settled = true;
    this.#end(response, undefined);
    this.#reply.resolve(response);
  }

  reject(error: unknown): void {
    if (this.#settled) return;
    this.#settled = true;
    const failure = toCallerError(error, this.#record.service, Math.max(1, this.#record.attempts));
    this.#end(undefined, failure);
    this.#reply.reject(failure);
  }

  #end(response: MeshResponse | undefined, error: unknown): void {
    try {
      this.#record.end(response, error, this.#env);
    } catch (bug) {
      // NOTE: telemetry must never change a call's result (a throwing exporter, a subscriber's bug).
      reportLater(bug);
    }
  }
}
