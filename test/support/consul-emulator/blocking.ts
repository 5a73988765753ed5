/**
 * Blocking queries (BLKDOC, RPCGO `blockingQuery`, HTTPGO `parseWait`): `?index=N` parks the
 * read until the answer's index passes N or `wait` elapses; without an index (or index 0) the
 * read answers at once. On timeout the CURRENT answer is returned, whose index may equal or be
 * lower than N; a snapshot restore wakes every parked read at once.
 */
import { systemClock } from '../../../src/core/clock.ts';
import { parseConsistency } from './consistency.ts';
import type { Exchange, Reply } from './exchange.ts';
import { parseGoDuration } from './go-duration.ts';
import { HttpError } from './http-error.ts';
import type { RaftLog } from './raft-log.ts';

const DEFAULT_WAIT_MS = 5 * 60_000;
const MAX_WAIT_MS = 10 * 60_000;
/** Consul's `structs.JitterFraction`: up to wait/16 is added to each wait. */
const JITTER_FRACTION = 16;
const MAX_UINT64 = 2n ** 64n - 1n;

export interface BlockingOptions {
  readonly raft: RaftLog;
  /**
   * Adds Consul's random wait/16 to each wait: `true` draws from Math.random, a function supplies
   * the draw in [0, 1); off by default so tests can time a wait exactly.
   */
  readonly jitter: boolean | (() => number);
  /** Counts reads parked right now. */
  readonly parked: { count: number };
}

/** The read's answer with its index (before Consul's forcing of 0 to 1). */
export type IndexedReply = Reply & { readonly index: number };

/**
 * Runs a read with Consul's consistency and blocking parameters: `run` computes the answer
 * from current state and is re-run after every change until its index passes `?index`.
 */
export async function blockingRead(exchange: Exchange, options: BlockingOptions, run: () => IndexedReply): Promise<Reply> {
  const consistency = parseConsistency(exchange.params);
  const { minIndex, waitMs } = parseWait(exchange.params);
  let reply = run();
  if (minIndex === 0 || Math.max(1, reply.index) > minIndex) return { ...reply, consistency };
  const draw = options.jitter === true ? Math.random() : options.jitter === false ? 0 : options.jitter();
  const timeoutMs = clampWait(waitMs) * (1 + draw / JITTER_FRACTION);
  options.parked.count++;
  try {
    const deadline = systemClock.now() + timeoutMs;
    for (;;) {
      const woke = await wake(options.raft, deadline - systemClock.now(), exchange.signal);
      reply = run();
      if (woke !== 'change' || Math.max(1, reply.index) > minIndex) return { ...reply, consistency };
    }
  } finally {
    options.parked.count--;
  }
}

function parseWait(params: URLSearchParams): { minIndex: number; waitMs: number } {
  let waitMs = 0;
  const wait = params.get('wait');
  if (wait !== null && wait !== '') {
    const parsed = parseGoDuration(wait);
    if (parsed === undefined) throw new HttpError(400, 'Invalid wait time');
    waitMs = parsed;
  }
  let minIndex = 0;
  const index = params.get('index');
  if (index !== null && index !== '') {
    if (!/^\d+$/.test(index) || BigInt(index) > MAX_UINT64) throw new HttpError(400, 'Invalid index');
    minIndex = Number(BigInt(index));
  }
  return { minIndex, waitMs };
}

function clampWait(waitMs: number): number {
  if (waitMs <= 0) return DEFAULT_WAIT_MS;
  return Math.min(waitMs, MAX_WAIT_MS);
}

/** Waits for a change, a restore, the timeout or the client leaving, whichever comes first. */
function wake(raft: RaftLog, ms: number, signal: AbortSignal): Promise<'change' | 'restore' | 'timeout' | 'gone'> {
  if (ms <= 0) return Promise.resolve('timeout');
  if (signal.aborted) return Promise.resolve('gone');
  const next = raft.next();
  return new Promise((resolve) => {
    const finish = (why: 'change' | 'restore' | 'timeout' | 'gone'): void => {
      timer.cancel();
      next.cancel();
      signal.removeEventListener('abort', onAbort);
      resolve(why);
    };
    const onAbort = (): void => finish('gone');
    const timer = systemClock.setTimer(() => finish('timeout'), ms);
    signal.addEventListener('abort', onAbort, { once: true });
    void next.promise.then(finish);
  });
}
