/**
 * Why budgets and not just max attempts? "Retry 3 times" triples the load on a dependency at
 * the very moment it is failing: every caller's retries arrive on top of its own traffic and
 * turn a brownout into an outage (a retry storm). A budget bounds retries to a fraction of
 * the calls actually made (Finagle's RetryBudget, tower's TpsBudget, Linkerd's retry
 * budgets): with 20%, a dependency that fails everything sees at most 1.2x its normal load,
 * whatever `attempts` says. `minPerSecond` keeps a small reserve so a service that makes a
 * few calls a second can still retry at all.
 *
 * Hedges draw on the same budget (they are extra load too) and are further capped by
 * `hedge.maxExtraLoad` as a fraction of calls.
 *
 * Implementation: counts of calls, retries and hedges in fixed time buckets over the window
 * (10 buckets), summed incrementally, so every operation is O(1) and allocation-free.
 */
import type { Clock } from '../core/clock.ts';
import type { ServicePolicy } from '../config/policy.ts';

export interface RetryBudget {
  /** One per logical call (made by the retry layer, or by the hedge layer when retries are off), started at `now` (default: the clock's now). */
  deposit(now?: number): void;
  /** Takes one retry from the budget; false when the budget is spent (do not retry). */
  tryWithdraw(): boolean;
  /** Takes one hedged attempt: within the retry budget and within `hedge.maxExtraLoad`. */
  tryWithdrawHedge(): boolean;
  /** Plain JSON for `mesh.state()`. */
  state(): RetryBudgetState;
}

export interface RetryBudgetState {
  readonly enabled: boolean;
  /** Calls, retries and hedges counted over the current window. */
  readonly calls: number;
  readonly retries: number;
  readonly hedges: number;
  /** Retries the budget would allow right now (Infinity when unbounded). */
  readonly available: number;
}

const BUCKETS = 10;
const DEFAULT_WINDOW = 10_000;

const UNLIMITED: RetryBudget = {
  deposit() {},
  tryWithdraw: () => true,
  tryWithdrawHedge: () => true,
  state: () => ({ enabled: false, calls: 0, retries: 0, hedges: 0, available: Number.POSITIVE_INFINITY }),
};

/** Two policies with the same key can share one budget (its window of calls and retries). */
export function retryBudgetKey(policy: ServicePolicy): string {
  return JSON.stringify([policy.retry === false ? false : policy.retry.budget, policy.hedge === false ? 0 : policy.hedge.maxExtraLoad]);
}

export function createRetryBudget(policy: ServicePolicy, clock: Clock): RetryBudget {
  const budget = policy.retry === false ? false : policy.retry.budget;
  const hedgeShare = policy.hedge === false ? 0 : policy.hedge.maxExtraLoad;
  if (budget === false && policy.hedge === false) return UNLIMITED;
  return new WindowedRetryBudget(clock, budget === false ? undefined : budget, hedgeShare);
}

class WindowedRetryBudget implements RetryBudget {
  readonly #clock: Clock;
  readonly #ratio: number;
  readonly #reserve: number;
  readonly #hedgeShare: number;
  readonly #bucketMs: number;
  readonly #calls = new Float64Array(BUCKETS);
  readonly #spent = new Float64Array(BUCKETS);
  readonly #hedges = new Float64Array(BUCKETS);
  #callSum = 0;
  #spentSum = 0;
  #hedgeSum = 0;
  #current = 0;
  #currentEnd: number;

  constructor(
    clock: Clock,
    budget: { ratio: number; minPerSecond: number; window: number } | undefined,
    hedgeShare: number,
  ) {
    this.#clock = clock;
    const window = budget?.window ?? DEFAULT_WINDOW;
    // No retry budget configured (but hedging is): retries are unbounded, hedges still capped.
    this.#ratio = budget === undefined ? Number.POSITIVE_INFINITY : budget.ratio;
    this.#reserve = budget === undefined ? Number.POSITIVE_INFINITY : (budget.minPerSecond * window) / 1000;
    this.#hedgeShare = hedgeShare;
    this.#bucketMs = window / BUCKETS;
    this.#currentEnd = clock.now() + this.#bucketMs;
  }

  deposit(now?: number): void {
    this.#rotate(now ?? this.#clock.now());
    this.#calls[this.#current]!++;
    this.#callSum++;
  }

  tryWithdraw(): boolean {
    this.#rotate(this.#clock.now());
    if (this.#available() < 1) return false;
    this.#spend();
    return true;
  }

  tryWithdrawHedge(): boolean {
    this.#rotate(this.#clock.now());
    if (this.#hedgeSum + 1 > this.#hedgeShare * this.#callSum) return false;
    if (this.#available() < 1) return false;
    this.#spend();
    this.#hedges[this.#current]!++;
    this.#hedgeSum++;
    return true;
  }

  state(): RetryBudgetState {
    this.#rotate(this.#clock.now());
    return {
      enabled: true,
      calls: this.#callSum,
      retries: this.#spentSum - this.#hedgeSum,
      hedges: this.#hedgeSum,
      available: Math.max(0, Math.floor(this.#available())),
    };
  }

  #available(): number {
    if (this.#ratio === Number.POSITIVE_INFINITY) return Number.POSITIVE_INFINITY;
    return this.#reserve + this.#ratio * this.#callSum - this.#spentSum;
  }

  #spend(): void {
    this.#spent[this.#current]!++;
    this.#spentSum++;
  }

  /** Moves to the bucket `now` falls in, forgetting the buckets that left the window. */
  #rotate(now: number): void {
    if (now < this.#currentEnd) return;
    const elapsed = Math.min(BUCKETS, Math.floor((now - this.#currentEnd) / this.#bucketMs) + 1);
    for (let i = 0; i < elapsed; i++) {
      this.#current = (this.#current + 1) % BUCKETS;
      this.#callSum -= this.#calls[this.#current]!;
      this.#spentSum -= this.#spent[this.#current]!;
      this.#hedgeSum -= this.#hedges[this.#current]!;
      this.#calls[this.#current] = 0;
      this.#spent[this.#current] = 0;
      this.#hedges[this.#current] = 0;
    }
    this.#currentEnd += Math.floor((now - this.#currentEnd) / this.#bucketMs + 1) * this.#bucketMs;
  }
}
