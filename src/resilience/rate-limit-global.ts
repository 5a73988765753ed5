/**
 * The Redis half of a global rate limit: every process (every mesh) limiting the same
 * service counts against one shared key, so the fleet together stays within `rps`.
 *
 * Exact semantics (rate-limiter-flexible's RateLimiterRedis is a fixed window): one
 * counter per service in Redis allows `points` calls per window of `windowSeconds` (1 s for
 * rps >= 1), the window starting with its first call; across a window boundary up to twice
 * that can pass within one second. The burst shape comes from the local token bucket each
 * process puts in front (see rate-limit.ts). Redis down or slow: the in-memory insurance
 * limiter, with the same window, answers instead, so the limit then holds per process and
 * calls never fail because Redis did.
 */
import { Redis } from 'ioredis';
import { RateLimiterMemory, RateLimiterRedis, RateLimiterRes } from 'rate-limiter-flexible';

export interface GlobalLimiter {
  /** Resolves true when the shared limit admits one more call. */
  tryAcquire(): Promise<boolean>;
  state(): { redis: string; connected: boolean; lastError: string | undefined };
  close(): void;
}

const KEY = 'calls';

export function createGlobalLimiter(service: string, rps: number, redisUrl: string): GlobalLimiter {
  const windowSeconds = rps >= 1 ? 1 : Math.ceil(1 / rps);
  const points = Math.max(1, Math.floor(rps * windowSeconds));
  let lastError: string | undefined;
  const client = new Redis(redisUrl, {
    lazyConnect: true,
    enableOfflineQueue: false, // a call must not wait for a reconnect: the insurance answers
    maxRetriesPerRequest: 0,
    commandTimeout: 200, // a hung Redis falls back to insurance instead of stalling calls
    connectTimeout: 1000,
    retryStrategy: (times: number) => Math.min(times * 100, 2000),
  });
  // NOTE: without an 'error' listener ioredis prints every reconnect failure.
  client.on('error', (error: Error) => {
    lastError = error.message;
  });
  client.connect().catch(() => {
    // reported through 'error'; reconnects continue in the background
  });
  const insurance = new RateLimiterMemory({ points, duration: windowSeconds });
  const limiter = new RateLimiterRedis({
    storeClient: client,
    keyPrefix: `meshlet:rl:${service}`,
    points,
    duration: windowSeconds,
    rejectIfRedisNotReady: true,
    insuranceLimiter: insurance,
  });

  return {
    tryAcquire: () =>
      limiter.consume(KEY).then(
        () => true,
        (rejection: unknown) => {
          if (rejection instanceof RateLimiterRes) return false;
          // Both Redis and the insurance failed: admit rather than fail a call over a limiter.
          lastError = String(rejection);
          return true;
        },
      ),
    state: () => ({ redis: redactUrl(redisUrl), connected: client.status === 'ready', lastError }),
    close: () => {
      client.disconnect();
    },
  };
}

/** Never show a Redis password in state or logs. */
function redactUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    return parsed.toString();
  } catch {
    return 'redis://(invalid url)';
  }
}
