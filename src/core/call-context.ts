/**
 * What a call knows about itself, in two parts:
 * - `Call`: the logical call, immutable, made once per call (by the client, and once more by
 *   the deadline layer when an inbound request clips its deadline or links its
 *   cancellation): service, start, deadline, signal, the inbound request it serves.
 * - `Attempt` (attempt.ts): one try at one endpoint; several per call with retries and hedges.
 * And the `InboundContext`: what the inbound request carried (deadline, cancellation), kept in
 * an AsyncLocalStorage by the framework adapters so outgoing calls made while serving it are
 * clipped to its deadline without the user threading anything through.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

export interface Call {
  /** Logical service name (the client's). */
  readonly service: string;
  /** Clock time the logical call started. */
  readonly startedAt: number;
  /** Absolute clock time by which the whole call must finish, all attempts included; Infinity when unbounded. */
  readonly deadline: number;
  /** Aborts when the caller cancels or the inbound request being served goes away. */
  readonly signal: AbortSignal | undefined;
  /** The inbound request this call is made for, if any. */
  readonly inbound: InboundContext | undefined;
  /** What routing and telemetry attach to the call; frozen, shared by calls that have none. */
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** The attributes of a call that has none: one frozen object, so a call allocates none. */
export const NO_ATTRIBUTES: Readonly<Record<string, unknown>> = Object.freeze({});

export function newCall(
  service: string,
  startedAt: number,
  deadline: number,
  signal: AbortSignal | undefined,
  inbound: InboundContext | undefined = undefined,
  attributes: Readonly<Record<string, unknown>> = NO_ATTRIBUTES,
): Call {
  return { service, startedAt, deadline, signal, inbound, attributes };
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
