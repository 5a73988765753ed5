/**
 * The balancer's view of one endpoint: the address discovery reported, its connection pool,
 * and the load and health figures every picker and the outlier detector read. One object
 * per address id lives as long as discovery keeps the address, so load statistics survive
 * picker rebuilds and config changes; pickers hold references, never copies.
 */
import type { Dispatcher } from 'undici';
import type { Endpoint, EndpointAddress } from '../core/endpoint.ts';
import type { TimerHandle } from '../core/clock.ts';

export class LiveEndpoint implements Endpoint {
  address: EndpointAddress;
  readonly origin: string;
  readonly dispatcher: Dispatcher;

  /** Attempts sent and not yet answered (the load both p2c pickers weigh). */
  inFlight = 0;
  requests = 0;
  failures = 0;

  /** Peak-EWMA latency estimate in ms; see peak-ewma.ts. */
  ewmaMs: number;
  /** Clock time of the last EWMA update. */
  ewmaAt: number;
  /** False until a first response replaced the prior. */
  observed = false;

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

  constructor(address: EndpointAddress, dispatcher: Dispatcher, priorMs: number, now: number) {
    this.address = address;
    this.origin = `${address.protocol}://${address.host.includes(':') ? `[${address.host}]` : address.host}:${address.port}`;
    this.dispatcher = dispatcher;
    this.ewmaMs = priorMs;
    this.ewmaAt = now;
  }

  get weight(): number {
    return this.address.weight > 0 ? this.address.weight : 1;
  }

  get ejected(): boolean {
    return this.ejectedUntil !== 0;
  }
}
