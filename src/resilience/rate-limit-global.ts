/**
 * The Redis half of a global rate limit: every process (every mesh) limiting the same
 * service counts against one shared key, so the fleet together stays within `rps`.
 *
 * Exact semantics (rate-limiter-flexible's RateLimiterRedis is a fixed window): one
 * counter per service in Redis allows `points` calls per window of `windowSeconds` (1 s for
 * rps >= 1), the window starting with its first call; across a window boundary up to twice
 * that can pass within one second. The burst shape comes from the local token bucket each
 * process puts in front (see rate-limit.ts).
 *
 * Redis down, hung or slow: a check Redis has not answered within REDIS_ANSWER_BOUND_MS is
 * answered by the in-memory insurance limiter, with the same window (rate-limiter-flexible's
 * `insuranceLimiter`), so the limit then holds per process and calls never fail because
 * Redis did. Independently, the check never outlives the call: its deadline or abort ends
 * the wait (MESH_TIMEOUT / MESH_ABORTED, see call-bounded-wait.ts). A check that answers
 * after its call gave up is dropped; the point it took stays taken (one call's worth of
 * limit, erring towards fewer calls, rather than a second round trip to a Redis that is
 * already slow).
 *
 * ioredis and rate-limiter-flexible load only when a global limit is built (they are most of
 * meshlet's import time); checks made while they load wait for them, within the call's
 * deadline, and later checks call the limiter directly.
 */
import type { Call } from '../core/call-context.ts';
import { redactText } from '../core/redact.ts';
import type { Clock } from '../core/clock.ts';
import { waitWithinCall } from './call-bounded-wait.ts';

export interface GlobalLimiter {
  /**
   * Resolves true when the shared limit admits one more call, false when it refuses; rejects
   * with MESH_TIMEOUT or MESH_ABORTED when the call's deadline or abort comes first.
   */
  tryAcquire(call: Call): Promise<boolean>;
  state(): { redis: string; connected: boolean; lastError: string | undefined };
  close(): void;
}

/**
 * How long a check waits for Redis before the insurance answers it. Well above a healthy
 * Redis's answer (about a millisecond) plus the stalls of a busy Node process (GC, long
 * tasks: every stall past the bound sends checks to the per-process insurance), and well
 * below the timeouts calls carry (10 s by default). A call whose deadline comes sooner ends
 * at its deadline instead (MESH_TIMEOUT): the check is bounded by both.
 */
export const REDIS_ANSWER_BOUND_MS = 100;

const KEY = 'calls';

interface Connection {
  readonly check: () => Promise<boolean>;
  isReady(): boolean;
  disconnect(): void;
}

export function createGlobalLimiter(service: string, rps: number, redisUrl: string, clock: Clock): GlobalLimiter {
  let lastError: string | undefined;
  let connection: Connection | undefined;
  let closed = false;
  const recordError = (error: unknown): void => {
    lastError = error instanceof Error ? error.message : String(error);
  };
  const loading: Promise<Connection | undefined> = connect(service, rps, redisUrl, recordError).then(
    (made) => {
      if (closed) made.disconnect();
      else connection = made;
      return connection;
    },
    (error: unknown) => {
      recordError(error);
      return undefined;
    },
  );

  return {
    tryAcquire(call: Call): Promise<boolean> {
      if (connection !== undefined) return waitWithinCall(call, clock, connection.check);
      // Redis support that failed to load (lastError says why) admits, as a failed insurance does.
      return waitWithinCall(call, clock, () => loading.then((made) => (made === undefined ? true : made.check())));
    },
    state: () => ({ redis: redactText(redisUrl), connected: connection?.isReady() ?? false, lastError }),
    close: () => {
      closed = true;
      connection?.disconnect();
      connection = undefined;
    },
  };
}

/** Loads Redis support and opens the connection; reconnects continue in the background. */
async function connect(service: string, rps: number, redisUrl: string, recordError: (error: unknown) => void): Promise<Connection> {
  const [{ Redis }, { RateLimiterMemory, RateLimiterRedis, RateLimiterRes }] = await Promise.all([
    import('ioredis'),
    import('rate-limiter-flexible'),
  ]);
  const windowSeconds = rps >= 1 ? 1 : Math.ceil(1 / rps);
  const points = Math.max(1, Math.floor(rps * windowSeconds));
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false, // a check must not wait for a reconnect: the insurance answers
    maxRetriesPerRequest: 0,
    commandTimeout: REDIS_ANSWER_BOUND_MS, // a hung Redis hands the check to the insurance
    connectTimeout: 1000,
    // close() waits at most this long for Redis to close its end of the connection, so a dead
    // or hung Redis does not hold the process open (ioredis's default is 2 s).
    disconnectTimeout: REDIS_ANSWER_BOUND_MS,
    retryStrategy: (times: number) => Math.min(times * 100, 2000),
  });
  // NOTE: without an 'error' listener ioredis prints every reconnect failure.
  client.on('error', recordError);
  client.connect().catch(() => {
    // reported through 'error'
  });
  const limiter = new RateLimiterRedis({
    storeClient: client,
    keyPrefix: `meshlet:rl:${service}`,
    points,
    duration: windowSeconds,
    rejectIfRedisNotReady: true,
    insuranceLimiter: new RateLimiterMemory({ points, duration: windowSeconds }),
  });
  return {
    check: () =>
      limiter.consume(KEY).then(
        () => true,
        (rejection: unknown) => {
          if (rejection instanceof RateLimiterRes) return false;
          // Both Redis and the insurance failed: admit rather than fail a call over a limiter.
          recordError(rejection);
          return true;
        },
      ),
    isReady: () => client.status === 'ready',
    disconnect: () => client.disconnect(),
  };
}

