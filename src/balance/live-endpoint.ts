/**
 * The balancer's view of one endpoint: the address discovery reported, its connection,
 * and the load and health figures every picker and the outlier detector read. One object
 * per address id lives as long as discovery keeps the address, so load statistics survive
 * picker rebuilds and config changes; pickers hold references, never copies.
 *
 * The connection (the transport's: an HTTP pool) is made on first use, not when discovery
 * reports the address: an HTTP pool costs about 19 KB of heap before it opens a socket,
 * and a config may list thousands of endpoints of which a process calls few. An endpoint
 * without a connection is a few plain fields and a reference to its set's one Connector:
 * no timer, no closure of its own.
 */
import type { Connector, Endpoint, EndpointAddress, EndpointConnection } from '../core/endpoint.ts';
import { originOf } from '../core/endpoint.ts';
import type { TimerHandle } from '../core/clock.ts';

/** What accounts an endpoint's attempts: the EndpointSet that made it (kept apart so the set and its endpoints do not import each other). */
export interface AttemptAccounting {
  finished(endpoint: LiveEndpoint, startedAt: number, failed: boolean | null | undefined): void;
}

export class LiveEndpoint implements Endpoint {
  address: EndpointAddress;
  readonly #connect: Connector;
  #connection: EndpointConnection | undefined = undefined;

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

  /** Removed by discovery: the connection closes once the last in-flight attempt finishes. */
  draining = false;
  connectionClosed = false;
  /** The set that made this endpoint: the one that accounts its attempts, even after a newer set replaced it. */
  owner: AttemptAccounting | undefined = undefined;

  constructor(address: EndpointAddress, connect: Connector, priorMs: number, now: number) {
    this.address = address;
    this.#connect = connect;
    this.ewmaMs = priorMs;
    this.ewmaAt = now;
  }

  /** `http://host:port`; computed when asked (it is not on the hot path), not held per endpoint. */
  get origin(): string {
    return originOf(this.address);
  }

  /** The endpoint's connection, made by the first attempt sent here. */
  get connection(): EndpointConnection {
    if (this.#connection === undefined) {
      this.#connection = this.#connect(this.address);
      // NOTE: an attempt that reaches a retired endpoint must fail as "closed, never sent",
      // exactly as it would on a connection made earlier and closed since.
      if (this.connectionClosed) void this.#connection.close().catch(() => {});
    }
    return this.#connection;
  }

  /** True once an attempt made this endpoint's connection. */
  get hasConnection(): boolean {
    return this.#connection !== undefined;
  }

  /**
   * Closes the connection for good (later attempts fail as closed). Resolves once its queued
   * requests and unread bodies are done; at once when no attempt ever made one.
   */
  closeConnection(): Promise<void> | undefined {
    if (this.connectionClosed) return undefined;
    this.connectionClosed = true;
    return this.#connection?.close();
  }

  /** Fails the requests the connection still holds with `reason`, and closes it. */
  destroyConnection(reason: Error): void {
    this.connectionClosed = true;
    this.#connection?.destroy(reason).catch(() => {});
  }

  get weight(): number {
    return this.address.weight > 0 ? this.address.weight : 1;
  }

  get ejected(): boolean {
    return this.ejectedUntil !== 0;
  }
}
