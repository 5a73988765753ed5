/**
 * The balancer's view of one endpoint: the address discovery reported, its connection pool,
 * and the load and health figures every picker and the outlier detector read. One object
 * per address id lives as long as discovery keeps the address, so load statistics survive
 * picker rebuilds and config changes; pickers hold references, never copies.
 *
 * The pool is made on first use, not when discovery reports the address: an undici Pool
 * costs about 19 KB of heap before it opens a socket, and a config may list thousands of
 * endpoints of which a process calls few. An endpoint without a pool is a few plain fields
 * and a reference to its set's one pool factory: no timer, no closure of its own.
 */
import type { Dispatcher } from 'undici';
import type { Endpoint, EndpointAddress } from '../core/endpoint.ts';
import type { TimerHandle } from '../core/clock.ts';
import { originOf } from '../transport/http/pool.ts';

/** Makes an endpoint's pool; one function per endpoint set, shared by all its endpoints. */
export type DispatcherFactory = (address: EndpointAddress) => Dispatcher;

/** What accounts an endpoint's attempts: the EndpointSet that made it (kept apart so the set and its endpoints do not import each other). */
export interface AttemptAccounting {
  finished(endpoint: LiveEndpoint, startedAt: number, failed: boolean | null | undefined): void;
}

export class LiveEndpoint implements Endpoint {
  address: EndpointAddress;
  readonly #createDispatcher: DispatcherFactory;
  #dispatcher: Dispatcher | undefined = undefined;

  /** Attempts sent and not yet answered (the load both p2c pickers weigh). */
  inFlight = 0;
  requests = 0;
  failures = 0;

  /** Peak-EWMA latency estimate in ms; see peak-ewma.ts. */
  ewmaMs: number;
  /** Clock time of the last EWMA update. */
  ewmaAt: number;
  /** False until two answers replaced the prior (see peak-ewma.ts: a first one is not trusted alone). */
  observed = false;
  /** The first answer's latency, held until a second answer; its clock time starts the estimate's age. */
  firstAnswerMs = 0;
  firstAnswerAt = -1;

  consecutiveFailures = 0;
  /** Ejections so far; each one doubles the next ejection time. */
  ejections = 0;
  /** Clock time the current ejection ends; 0 when not ejected. */
  ejectedUntil = 0;
  ejectReason: string | undefined = undefined;
  /** Clock time of the last re-admission, to forgive old ejections after a healthy stretch. */
  readmittedAt = 0;
  readmitTimer: TimerHandle | undefined = undefined;

  /** Removed by discovery: the pool closes once the last in-flight attempt finishes. */
  draining = false;
  poolClosed = false;
  /** The set that made this endpoint: the one that accounts its attempts, even after a newer set replaced it. */
  owner: AttemptAccounting | undefined = undefined;

  constructor(address: EndpointAddress, createDispatcher: DispatcherFactory, priorMs: number, now: number) {
    this.address = address;
    this.#createDispatcher = createDispatcher;
    this.ewmaMs = priorMs;
    this.ewmaAt = now;
  }

  /** `http://host:port`; computed when asked (it is not on the hot path), not held per endpoint. */
  get origin(): string {
    return originOf(this.address);
  }

  /** The endpoint's pool, made by the first attempt sent here. */
  get dispatcher(): Dispatcher {
    if (this.#dispatcher === undefined) {
      this.#dispatcher = this.#createDispatcher(this.address);
      // NOTE: an attempt that reaches a retired endpoint must fail as "closed, never sent",
      // exactly as it would on a pool made earlier and closed since.
      if (this.poolClosed) void this.#dispatcher.close().catch(() => {});
    }
    return this.#dispatcher;
  }

  /** True once an attempt made this endpoint's pool. */
  get hasPool(): boolean {
    return this.#dispatcher !== undefined;
  }

  /**
   * Closes the pool for good (later attempts fail as closed). Resolves once its queued
   * requests and unread bodies are done; at once when no attempt ever made one.
   */
  closePool(): Promise<void> | undefined {
    if (this.poolClosed) return undefined;
    this.poolClosed = true;
    // undici's close() lets queued requests and unread bodies finish before the sockets go.
    return this.#dispatcher?.close();
  }

  /** Fails the requests the pool still holds with `reason`, and closes it. */
  destroyPool(reason: Error): void {
    this.poolClosed = true;
    this.#dispatcher?.destroy(reason).catch(() => {});
  }

  get weight(): number {
    return this.address.weight > 0 ? this.address.weight : 1;
  }

  get ejected(): boolean {
    return this.ejectedUntil !== 0;
  }
}
