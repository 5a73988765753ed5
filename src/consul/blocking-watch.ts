/**
 * The one loop over Consul's blocking queries that every watch in meshlet uses (the control
 * store's KV prefix, each service's health, config entries), so Consul's client rules
 * (BLKDOC "Implementation Details"; ../shared/CONSUL.md §0.2) are implemented once:
 *
 * 1. The first request carries index 0 (a plain read, answered at once); each later one the
 *    last index, so Consul holds it until something changes or `wait` passes.
 * 2. An index that goes backwards (a snapshot restore, a reaped tombstone, an agent that
 *    restarted empty) resets the loop to 0, and the fresh read that follows is delivered.
 *    Blocking on the old, higher index would wait out every `wait` and miss every change.
 * 3. An answer with index 0 (Consul never sends one; a proxy or a bug might) carries no
 *    information about change, so it is delivered, whatever came before, and the consumer's
 *    content comparison decides whether anything changed (the KV and health watches both
 *    compare content). The next round goes out with index 1, never 0: index 0 would make
 *    every round a plain read, answered at once: a busy loop (rule 4 bounds the rest).
 * 4. The loop is rate-limited by a token bucket (a small burst, then one round per
 *    `minIntervalMs`), not a plain sleep: an answer storm (churning data, an agent answering
 *    at once, index 0 forever) costs at most a round per interval, while a change after a
 *    quiet spell goes out at once. node-consul's watch re-polls at once, every time.
 * 5. A failed round is reported and retried after a full-jitter backoff (100 ms doubling to
 *    30 s), so a fleet does not retry in waves; a 400 (meshlet sent something Consul does
 *    not accept: retrying soon cannot help) is retried only every 30 s, not given up on as
 *    node-consul does (a watch that silently ends is worse: its config goes stale unseen).
 *    The retry is a plain read: blocking on the old index would hide that Consul is back
 *    until the next change or `wait`; it answers at once, and `onRecover` says so. (These
 *    plain reads are paced by the backoff, so rule 3's busy loop cannot arise.)
 *
 * Timers are background timers (clock.setTimer, unref'd) and the client's sockets never keep
 * the process alive, so a running watch lets a script exit; stop() ends it cleanly.
 */
import { type Clock, systemClock, type TimerHandle } from '../core/clock.ts';
import { isMeshError, MeshError } from '../core/errors.ts';
import { fullJitterBackoff } from '../resilience/backoff.ts';
import { TokenBucket } from '../resilience/token-bucket.ts';
import type { QueryResult } from './types.ts';

export interface BlockingWatchOptions<T> {
  /** Describes the watched resource for messages/state, e.g. 'kv meshlet/' or 'health payments'. */
  readonly what: string;
  readonly query: (index: bigint, wait: string, signal: AbortSignal) => Promise<QueryResult<T>>;
  /** How long Consul holds each blocking query (default '60s'). */
  readonly wait?: string;
  readonly clock?: Clock;
  /** Called with every result whose index moved (or after an index reset, or that says index 0); first result always. */
  readonly onChange: (value: T, index: bigint) => void;
  /** Called on each failed round (MeshError MESH_CONSUL_FAILED); the watch retries with jittered backoff. */
  readonly onError: (error: MeshError) => void;
  /** Called on the first successful round after failed ones (after its onChange, if it changed): Consul is back. */
  readonly onRecover?: () => void;
  /** Rate limit of the loop: after the burst, at most one round per this many ms (default 100). */
  readonly minIntervalMs?: number;
}

const DEFAULT_WAIT = '60s';
const DEFAULT_MIN_INTERVAL_MS = 100;
/** Rounds that may go out back to back: a change right after another is still seen at once. */
const BURST = 3;
const RETRY_BASE_MS = 100;
const RETRY_MAX_MS = 30_000;

let openWatches = 0;

/**
 * Blocking queries open in this process right now (for the config-propagation bench and
 * tests): each running watch holds one (or is backing off to reopen it).
 */
export function openBlockingQueries(): number {
  return openWatches;
}

export class BlockingWatch<T> {
  readonly #options: BlockingWatchOptions<T>;
  readonly #clock: Clock;
  readonly #wait: string;
  readonly #bucket: TokenBucket;
  readonly #backoff = fullJitterBackoff({ base: RETRY_BASE_MS, max: RETRY_MAX_MS });
  #index = 0n;
  #failures = 0;
  #stopped = false;
  #loop: Promise<void> | undefined;
  #inFlight: AbortController | undefined;
  #pause: { timer: TimerHandle; wake: () => void } | undefined;
  readonly #firstReport: Promise<void>;
  #reported: () => void = () => {};

  constructor(options: BlockingWatchOptions<T>) {
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#wait = options.wait ?? DEFAULT_WAIT;
    const minIntervalMs = Math.max(1, options.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS);
    this.#bucket = new TokenBucket(this.#clock, 1000 / minIntervalMs, BURST);
    this.#firstReport = new Promise((resolve) => {
      this.#reported = resolve;
    });
  }

  /** The index the next round blocks on (0n before the first result and after a reset). */
  get index(): bigint {
    return this.#index;
  }

  /** Rounds failed in a row (0 after a success), for state(). */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** Starts; resolves after the first result or first error was reported. */
  start(): Promise<void> {
    if (this.#loop === undefined && !this.#stopped) {
      openWatches++;
      this.#loop = this.#run().finally(() => {
        openWatches--;
        this.#reported();
      });
    }
    return this.#firstReport;
  }

  /** Aborts the round in flight (or the pause) and resolves once the loop has ended. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#inFlight?.abort();
    this.#pause?.wake();
    this.#reported();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      await this.#rateLimit();
      if (this.#stopped) return;
      const controller = new AbortController();
      this.#inFlight = controller;
      const recovering = this.#failures > 0;
      const asked = recovering ? 0n : this.#index;
      let result: QueryResult<T>;
      try {
        result = await this.#options.query(asked, this.#wait, controller.signal);
      } catch (error) {
        if (this.#stopped) return;
        const failure = this.#failure(error);
        this.#failures++;
        this.#report(() => this.#options.onError(failure));
        // The client was closed under the watch: no round can succeed any more.
        if (failure.code === 'MESH_CLOSED') return;
        await this.#sleep(failure.status === 400 ? RETRY_MAX_MS : this.#backoff.delay(this.#failures - 1));
        continue;
      } finally {
        this.#inFlight = undefined;
      }
      if (this.#stopped) return;
      this.#failures = 0;
      this.#take(result, asked);
      const onRecover = this.#options.onRecover;
      if (recovering && onRecover !== undefined) this.#report(onRecover);
    }
  }

  #take(result: QueryResult<T>, asked: bigint): void {
    if (result.index < 1n) {
      // Rule 3: no information about change: delivered, the consumer's content decides.
      this.#index = 1n;
      this.#report(() => this.#options.onChange(result.value, 1n));
      return;
    }
    const index = result.index;
    if (asked > 0n && index < asked) {
      // Rule 2: a blocking round came back from a store that went back; the next round
      // re-reads at 0. (A plain read's answer is fresh whatever its index: it is taken.)
      this.#index = 0n;
      return;
    }
    const moved = index !== this.#index;
    this.#index = index;
    if (moved) this.#report(() => this.#options.onChange(result.value, index));
  }

  /** Runs a handler; one that throws does not end the watch (its error is reported instead). */
  #report(handler: () => void): void {
    try {
      handler();
    } catch (error) {
      try {
        this.#options.onError(
          new MeshError('MESH_CONSUL_FAILED', `${this.#options.what}: a handler of this watch threw (${String((error as Error)?.message ?? error)}); the watch goes on, fix the handler`, {
            cause: error,
          }),
        );
      } catch {
        // An onError that throws too: nothing left to tell.
      }
    } finally {
      this.#reported();
    }
  }

  async #rateLimit(): Promise<void> {
    while (!this.#stopped && !this.#bucket.tryTake()) await this.#sleep(this.#bucket.msUntilToken());
  }

  /** A background pause that stop() cuts short. */
  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = (): void => {
        this.#pause?.timer.cancel();
        this.#pause = undefined;
        resolve();
      };
      this.#pause = { timer: this.#clock.setTimer(wake, ms), wake };
    });
  }

  #failure(error: unknown): MeshError {
    if (isMeshError(error) && (error.code === 'MESH_CONSUL_FAILED' || error.code === 'MESH_CLOSED')) return error;
    const reason = error instanceof Error ? error.message : String(error);
    return new MeshError('MESH_CONSUL_FAILED', `${this.#options.what}: the blocking query failed (${reason}); meshlet retries with backoff`, {
      cause: error,
      ...(isMeshError(error) && error.status !== undefined ? { status: error.status } : {}),
    });
  }
}
