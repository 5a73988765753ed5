/**
 * The bottom of the gRPC stack: one attempt is one real grpc-js call, started with the
 * interceptor's `nextCall` after meshlet's balancer chose the endpoint. The balancer type
 * (balancer.ts) finds the attempt on the call's metadata options (grpc-js hands the picker
 * the call's metadata, options kept through its clones) and routes it to that endpoint's
 * subchannel. The attempt's time limit — the call's deadline, or the per-try timeout when
 * sooner — is meshlet's to enforce, not grpc-js's: the attempt is an entry in the stack's
 * ExpiryQueue (core/expiry-queue.ts: one timer per duration for all attempts, where a grpc-js
 * deadline arms and clears a Node timer per call), and when it passes the attempt cancels its
 * call with DEADLINE_EXCEEDED, as grpc-js's own deadline timer would. The picker (balancer.ts)
 * writes the time left as `grpc-timeout` when the call is sent, as grpc-js does for its own
 * deadline, so a call that waited for a connection sends what is left then.
 *
 * `grpc-retry-pushback-ms` (gRFC A6) is honoured: a server that sends it on a failed attempt
 * holds the next attempt back at least that long (meshlet's backoff runs first and counts
 * toward it); a pushback that is not a whole number, or longer than `retry.maxRetryAfter` or
 * the time left, means "do not retry", and the failure goes back to the caller.
 *
 * The attempt is accounted for at its status, once, here rather than in the picker's
 * `onCallEnded`: a call cancelled or timed out while queued for a connection never reaches a
 * pick, and its endpoint must still be told (in-flight count, latency, outlier verdict).
 */
import grpc from '@grpc/grpc-js';
import type { Metadata, MetadataOptions, StatusObject } from '@grpc/grpc-js';
import type { InterceptingCallInterface } from './grpc-types.ts';
import type { Attempt } from '../../core/attempt.ts';
import type { Clock } from '../../core/clock.ts';
import type { Endpoint } from '../../core/endpoint.ts';
import { Expiring, ExpiryQueue } from '../../core/expiry-queue.ts';
import { callerAborted } from '../../core/errors.ts';
import { deadlineExceeded } from '../../core/mesh-errors.ts';
import type { MeshRequest, MeshResponse, Reply, Service } from '../../core/service.ts';
import { eitherSignal } from '../../core/signals.ts';
import { type GrpcRequest, GrpcResponse } from './grpc-request.ts';
import { classifyGrpc, GrpcStatusError, withoutRetry } from './status.ts';

const { status: Status } = grpc;

/** Where the balancer type finds an attempt on its call's metadata options. */
export const ATTEMPT_OPTION: unique symbol = Symbol.for('meshlet.grpc.attempt');
export const ATTEMPT_METADATA = 'x-meshlet-attempt';
export const TIMEOUT_METADATA = 'grpc-timeout';

/** What the picker (balancer.ts) reads from an attempt on its call's metadata options. */
export interface AttemptOnWire {
  /** The endpoint meshlet's balancer chose. */
  readonly endpoint: Endpoint | undefined;
  /** The time left as a `grpc-timeout` value; undefined when the attempt has no time limit. */
  grpcTimeout(): string | undefined;
}

/**
 * An attempt's metadata options: the caller's (grpc-js's four MetadataOptions, which its call
 * reads: waitForReady…) and the attempt, where the picker finds it. One class for every
 * attempt, rather than the caller's options spread into a fresh object with a symbol key each time.
 */
class AttemptOptions implements MetadataOptions {
  readonly idempotentRequest: boolean | undefined;
  readonly waitForReady: boolean | undefined;
  readonly cacheableRequest: boolean | undefined;
  readonly corked: boolean | undefined;
  readonly [ATTEMPT_OPTION]: AttemptOnWire;

  constructor(options: MetadataOptions, attempt: AttemptOnWire) {
    this.idempotentRequest = options.idempotentRequest;
    this.waitForReady = options.waitForReady;
    this.cacheableRequest = options.cacheableRequest;
    this.corked = options.corked;
    this[ATTEMPT_OPTION] = attempt;
  }
}

/** setTimeout's longest delay: a limit further off is no limit here, as grpc-js treats its own deadline (getRelativeTimeout). */
const MAX_TIMER_MS = 2_147_483_647;
/**
 * The longest grpc-timeout sent (~24.8 days, whole seconds): a grpc-js server reads it into a
 * 32-bit integer of ms (`| 0`), and a longer one wraps negative and ends the call at once.
 */
const MAX_SENT_MS = 2_147_483_000;

/** `ms` as gRPC's `grpc-timeout` (at most 8 digits and a unit), rounded up as grpc-js rounds its own. */
export function grpcTimeoutOf(ms: number): string {
  const left = ms > 0 ? ms : 0;
  if (left < 1e8) return `${Math.ceil(left)}m`;
  if (left < 1e11) return `${Math.ceil(left / 1000)}S`;
  if (left < 6e12) return `${Math.ceil(left / 60_000)}M`;
  return `${Math.min(99_999_999, Math.ceil(left / 3_600_000))}H`;
}

const PUSHBACK = 'grpc-retry-pushback-ms';

/** What a GrpcAttempt reads from its service's policy. */
interface AttemptSettings {
  readonly clock: Clock;
  /** Milliseconds; Infinity when off. */
  readonly perTry: number;
  /** The longest server pushback a retry waits for (`retry.maxRetryAfter`). */
  readonly maxPushback: number;
  /** The attempts' time limits (the stack's: retired with it). */
  readonly limits: ExpiryQueue;
}

export class GrpcAttemptService implements Service {
  readonly #settings: AttemptSettings;

  constructor(clock: Clock, perTryTimeout: number | false, maxPushback: number) {
    this.#settings = { clock, perTry: perTryTimeout === false ? Number.POSITIVE_INFINITY : perTryTimeout, maxPushback, limits: new ExpiryQueue(clock) };
  }

  /** Its stack was replaced or its client closed: attempts still out keep their limits; the timers go as they end. */
  retire(): void {
    this.#settings.limits.retire();
  }

  call(request: MeshRequest, attempt: Attempt): Promise<MeshResponse> {
    return new Promise((resolve, reject) => {
      new GrpcAttempt(request as GrpcRequest, attempt, this.#settings, { resolve, reject }).start(false);
    });
  }

  /** The callback form: with the default layers (deadline, retry, balancer) a call runs on no promise at all (PERF.md). */
  send(request: MeshRequest, attempt: Attempt, reply: Reply): void {
    new GrpcAttempt(request as GrpcRequest, attempt, this.#settings, reply).start(attempt.number === 1 && !attempt.hedge);
  }
}

/** The server's pushback in ms; undefined when it sent none; -1 when it said not to retry (or sent something unreadable). */
function pushbackOf(metadata: Metadata): number | undefined {
  const values = metadata.get(PUSHBACK);
  if (values.length === 0) return undefined;
  const value = String(values[0]);
  return /^\d{1,9}$/.test(value) ? Number(value) : -1;
}

class GrpcAttempt extends Expiring implements AttemptOnWire {
  readonly #request: GrpcRequest;
  readonly #attempt: Attempt;
  readonly #reply: Reply;
  readonly #settings: AttemptSettings;
  #call: InterceptingCallInterface | undefined = undefined;
  #headers: Metadata | undefined = undefined;
  #message: unknown = undefined;
  #atDeadline = false;
  #done = false;
  /** Ends a pushback pause early (the attempt aborted during it); set only while one runs. */
  #pause: AbortController | undefined = undefined;

  constructor(request: GrpcRequest, attempt: Attempt, settings: AttemptSettings, reply: Reply) {
    super();
    this.#settings = settings;
    this.#request = request;
    this.#attempt = attempt;
    this.#reply = reply;
  }

  /**
   * `inCallTurn`: a first try reached through the callback form, so through layers that never
   * wait (core/service.ts): it starts in its call's turn, and the call's start is its start, as
   * the HTTP attempt layer reads it (resilience/attempt.ts): no clock read of its own.
   */
  start(inCallTurn: boolean): void {
    const { clock } = this.#settings;
    // No pushback yet (a first try): no clock read to learn there is nothing to wait for.
    const wait = this.#request.notBefore === 0 ? 0 : this.#request.notBefore - clock.now();
    if (wait <= 0 || this.#request.owner.cancelled) {
      this.#send(inCallTurn);
      return;
    }
    // The server asked for a pause before this retry (pushback). The pause follows the caller's
    // cancel (the caller hears CANCELLED at once from its call, unary-call.ts): else the timer held
    // the cancelled call in the runtime's count, and mesh.close() waited out the pushback. The
    // signal is asked for here, rarely, so a call that never waits makes none. The attempt's own
    // signal is not enough: inside an inbound request it may be that request's alone (the
    // deadline layer's link), when no layer of the stack asked for the caller's cancel. And it
    // follows the attempt itself, through which a hedge race aborts a loser (attemptAborted).
    const pause = new AbortController();
    this.#pause = pause;
    this.#attempt.hook(this);
    clock.sleep(wait, eitherSignal(pause.signal, eitherSignal(this.#attempt.signal, this.#request.owner.cancelSignal?.()))).then(
      () => {
        this.#pause = undefined;
        this.#send(false);
      },
      (reason: unknown) => {
        this.#pause = undefined;
        this.#end(undefined, this.#attempt.aborted ? this.#attempt.reason : callerAborted(this.#attempt.call.service, 'while waiting to retry', reason));
      },
    );
  }

  #send(inCallTurn: boolean): void {
    const request = this.#request;
    const attempt = this.#attempt;
    const call = attempt.call;
    let now: number;
    // NOTE: the attempt's start stays unset while it is its call's (core/attempt.ts: a double kept is a heap box).
    if (inCallTurn) now = call.startedAt;
    else {
      now = this.#settings.clock.now();
      attempt.attemptAt = now;
    }
    if (request.owner.cancelled || attempt.signal?.aborted) {
      this.#end(undefined, callerAborted(call.service, 'before it was sent', attempt.signal?.reason));
      return;
    }
    // A hedge race's loser, or an attempt past its time limit, is never sent.
    if (attempt.aborted) {
      this.#end(undefined, attempt.reason);
      return;
    }
    const limit = Math.min(call.deadline, now + this.#settings.perTry);
    this.#atDeadline = limit === call.deadline;
    const metadata = request.metadata.clone();
    if (attempt.number > 1) metadata.set(ATTEMPT_METADATA, String(attempt.number));
    metadata.setOptions(new AttemptOptions(metadata.getOptions(), this));
    let grpcCall: InterceptingCallInterface;
    try {
      // NOTE: no grpc-js deadline (the request's options carry none): the limit is this attempt's, in the queue below.
      // Except for a server call's child (grpc-js's `parent` option): grpc-js takes the parent's deadline in as well and writes
      // grpc-timeout from it after the pick, over the picker's, so it is given this limit too and sends the sooner, as before.
      const options = request.options.parent === undefined || limit === Number.POSITIVE_INFINITY ? request.attemptOptions : { ...request.attemptOptions, deadline: Date.now() + (limit - now) };
      grpcCall = request.nextCall(options);
    } catch (error) {
      // The channel refused to make the call (closed by client.close()): never sent.
      this.#end(undefined, new GrpcStatusError({ code: Status.UNAVAILABLE, details: `meshlet: the channel could not start the call: ${(error as Error).message}`, metadata: new grpc.Metadata() }));
      return;
    }
    this.#call = grpcCall;
    if (limit - now <= MAX_TIMER_MS) this.#settings.limits.add(this, now, Math.max(0, limit - now));
    // Too far off for a timer (weeks): not enforced here, as grpc-js did not enforce such a deadline either, but still sent (capped: grpcTimeout).
    else if (limit !== Number.POSITIVE_INFINITY) this.expiresAt = limit;
    attempt.signal?.addEventListener('abort', this, { once: true });
    // A hedge race cancels its losers through the attempt itself (core/attempt.ts).
    attempt.hook(this);
    request.watch?.attemptStarted(attempt);
    // The attempt is its own listener (grpc-js binds the three methods): no listener object or closures of meshlet's per attempt.
    grpcCall.start(metadata, this);
    // After start: a stream's writes and reads queued by its caller go to a started call.
    request.owner.attach(grpcCall);
    // A unary call's one message is sent by each attempt; a stream's writes come from its caller (streaming-call.ts).
    if (request.owner.stream === undefined) {
      grpcCall.sendMessage(request.message);
      grpcCall.halfClose();
    }
  }

  get endpoint(): Endpoint | undefined {
    return this.#attempt.endpoint;
  }

  grpcTimeout(): string | undefined {
    // NOTE: expiresAt 0 (never set): no limit, no header, as grpc-js sends none for an infinite deadline.
    return this.expiresAt === 0 ? undefined : grpcTimeoutOf(Math.min(MAX_SENT_MS, this.expiresAt - this.#settings.clock.now()));
  }

  /** The attempt's time limit passed (the queue calls this): its call ends DEADLINE_EXCEEDED and is cancelled on the wire, as grpc-js's deadline does it. */
  expire(): void {
    const seconds = ((this.#settings.clock.now() - this.#attempt.attemptAt) / 1000).toFixed(3);
    // NOTE: the text starts as grpc-js's own does: #status reads it as this attempt's limit, not the server's answer.
    this.#call?.cancelWithStatus(Status.DEADLINE_EXCEEDED, `Deadline exceeded after ${seconds}s (meshlet's time limit for this attempt)`);
  }

  onReceiveMetadata(headers: Metadata): void {
    this.#headers = headers;
    this.#request.owner.stream?.onReceiveMetadata?.(headers);
  }

  onReceiveMessage(message: unknown): void {
    const stream = this.#request.owner.stream;
    if (stream === undefined) this.#message = message;
    else stream.onReceiveMessage?.(message);
  }

  onReceiveStatus(status: StatusObject): void {
    this.#status(status);
  }

  /** The signal the attempt follows aborted (the caller or the inbound request went away). */
  handleEvent(): void {
    this.#call?.cancelWithStatus(Status.CANCELLED, 'cancelled by meshlet: the caller or the inbound request this call serves was cancelled');
  }

  /** The attempt was aborted (a hedge race's loser: another attempt answered first), on the wire or in its pushback pause. */
  attemptAborted(): void {
    if (this.#pause !== undefined) {
      this.#pause.abort(this.#attempt.reason);
      return;
    }
    this.#call?.cancelWithStatus(Status.CANCELLED, 'cancelled by meshlet: another attempt of this call answered first');
  }

  #status(status: StatusObject): void {
    const attempt = this.#attempt;
    let outcome = classifyGrpc(status.code, this.#headers !== undefined);
    if (outcome.condition !== undefined) {
      const pushback = pushbackOf(status.metadata);
      if (pushback !== undefined) {
        const notBefore = this.#settings.clock.now() + pushback;
        if (pushback < 0 || pushback > this.#settings.maxPushback || notBefore >= attempt.call.deadline) outcome = withoutRetry(outcome);
        else this.#request.notBefore = notBefore;
      }
    }
    attempt.outcome = outcome;
    if (outcome.kind === 'success') {
      this.#end(new GrpcResponse(status, this.#message, this.#headers), undefined);
      return;
    }
    const failed = new GrpcStatusError(status);
    if (status.code === Status.CANCELLED && attempt.aborted) {
      this.#end(undefined, attempt.reason);
    } else if (status.code === Status.CANCELLED && (this.#request.owner.cancelled || attempt.signal?.aborted)) {
      this.#end(undefined, callerAborted(attempt.call.service, 'in flight', attempt.signal?.reason ?? failed));
    } else if (status.code === Status.DEADLINE_EXCEEDED && this.#atDeadline && status.details.startsWith('Deadline exceeded')) {
      // The call's deadline passed (this attempt's limit in meshlet's queue, or the server's timer on the grpc-timeout sent): meshlet's timeout, not the server's answer.
      const timeout = deadlineExceeded(attempt.call.service, attempt.call.deadline - attempt.call.startedAt, attempt.number);
      this.#end(undefined, Object.assign(timeout, { cause: failed }));
    } else {
      this.#end(undefined, failed);
    }
  }

  #end(response: MeshResponse | undefined, error: unknown): void {
    if (this.#done) return;
    this.#done = true;
    this.cancelExpiry();
    const attempt = this.#attempt;
    attempt.signal?.removeEventListener('abort', this);
    attempt.release();
    if (this.#call !== undefined) {
      this.#request.owner.detach(this.#call);
      this.#request.watch?.attemptEnded(attempt, response, error);
    }
    attempt.observer?.attemptEnded(attempt, error);
    if (response !== undefined) this.#reply.resolve(response);
    else this.#reply.reject(error);
  }
}
