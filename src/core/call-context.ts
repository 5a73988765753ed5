/**
 * The per-call context. Two kinds exist:
 * - `CallContext`: created once per logical call by the client and passed down the stack;
 *   the retry layer derives one per attempt (`attempt`, `signal`, `endpoint` differ).
 * - `InboundContext`: what the inbound request carried (deadline, cancellation), kept in an
 *   AsyncLocalStorage by the framework adapters so outgoing calls made while serving it are
 *   clipped to its deadline without the user threading anything through.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { AttemptSignal } from './attempt-signal.ts';
import type { Endpoint } from './endpoint.ts';
import type { Outcome } from './outcome.ts';
import type { MeshResponse } from './service.ts';

export interface CallContext {
  /** Logical service name (the client's). */
  readonly service: string;
  /** Clock time the logical call started. */
  readonly startedAt: number;
  /** Absolute clock time by which the whole call must finish; Infinity when unbounded. */
  deadline: number;
  /** Aborts when the caller cancels, the deadline passes, or (per attempt) a hedge wins. */
  signal: AbortSignal | undefined;
  /** 1 for the first try; set per attempt by the retry layer. */
  attempt: number;
  /** True for a hedged (speculative) attempt. */
  hedge: boolean;
  /** Endpoint chosen for this attempt by the balancer. */
  endpoint: Endpoint | undefined;
  /** Clock time this attempt started (set by the attempt layer; the balancer measures latency from it). */
  attemptAt: number;
  /** Told when this attempt ends (set by the balancer, called by the transport). */
  observer: AttemptObserver | undefined;
  /** An endpoint this attempt should avoid when another is available (the one a retry or hedge follows). */
  avoid: Endpoint | undefined;
  /** What the transport hands undici: fires at the attempt's time limit or when `signal` aborts, until the response body is done (set by the attempt layer). */
  wire: AttemptSignal | undefined;
  /** How the attempt ended, by the protocol's classifier (set by the transport); on the logical context, the result's. */
  outcome: Outcome | undefined;
}

/**
 * Hears, once and synchronously, how an attempt ended: its response head arrived, or it
 * failed. A side effect on the attempt's own completion, like Finagle's `Future.respond`: no
 * derived promise, no closure per attempt, which on the hot path is measurable.
 */
export interface AttemptObserver {
  attemptEnded(ctx: CallContext, response: MeshResponse | undefined, error: unknown): void;
}

export function newCallContext(service: string, now: number, deadline: number, signal: AbortSignal | undefined): CallContext {
  return {
    service,
    startedAt: now,
    deadline,
    signal,
    attempt: 1,
    hedge: false,
    endpoint: undefined,
    attemptAt: now,
    observer: undefined,
    avoid: undefined,
    wire: undefined,
    outcome: undefined,
  };
}

/** A per-attempt copy: the logical context is never mutated by concurrent attempts. */
export function attemptContext(
  ctx: CallContext,
  attempt: number,
  signal: AbortSignal | undefined,
  hedge: boolean,
  avoid: Endpoint | undefined,
): CallContext {
  return {
    service: ctx.service,
    startedAt: ctx.startedAt,
    deadline: ctx.deadline,
    signal,
    attempt,
    hedge,
    endpoint: undefined,
    attemptAt: ctx.startedAt,
    observer: undefined,
    avoid,
    wire: undefined,
    outcome: undefined,
  };
}

/**
 * The inbound request's limits as the deadline layer reads them. Built only by
 * `runWithInbound` (src/mesh/inbound.ts), which checks what the caller gave and converts it
 * once, at entry, to this clock.
 */
export interface InboundContext {
  /** Absolute time on the system clock (core/clock: monotonic) by which the inbound request must be answered; Infinity when unbounded. */
  readonly deadline: number;
  /** Aborts when the inbound request is cancelled (client went away). */
  readonly signal?: AbortSignal;
}

const inbound = new AsyncLocalStorage<InboundContext>();

/** Runs `fn` with `context` as the inbound request context for every call made inside it. */
export function enterInbound<T>(context: InboundContext, fn: () => T): T {
  return inbound.run(context, fn);
}

export function currentInbound(): InboundContext | undefined {
  return inbound.getStore();
}
