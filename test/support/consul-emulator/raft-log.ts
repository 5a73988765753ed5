/**
 * The emulator's stand-in for Consul's Raft log: ONE counter that every real change takes its
 * index from (so indexes across KV, catalog and config entries are comparable, as in Consul),
 * and the wake-up signal for parked blocking queries.
 *
 * NOTE: a write that changes nothing does not consume an index. Real Consul still appends a Raft
 * entry for it, but no table index moves, so nothing a client can observe differs.
 */

/** Indexes a fresh agent has already used for its own bootstrap writes (node, serfHealth, the `consul` service). */
export const BOOT_INDEX = 12;

type Waiter = (reason: 'change' | 'restore') => void;

export class RaftLog {
  #index = BOOT_INDEX;
  readonly #waiters = new Set<Waiter>();

  /** The last index any change used. */
  get index(): number {
    return this.#index;
  }

  /**
   * Runs `apply` with the index the change would take; the index is consumed (and blocked
   * queries woken) only when `apply` reports that it changed something.
   */
  write<T>(apply: (index: number) => { changed: boolean; result: T }): T {
    const next = this.#index + 1;
    const { changed, result } = apply(next);
    if (changed) {
      this.#index = next;
      this.#wake('change');
    }
    return result;
  }

  /** A snapshot restore: every index is rewritten by `lower`, and blocked queries are abandoned. */
  restore(lower: (index: number) => number): void {
    this.#index = lower(this.#index);
    this.#wake('restore');
  }

  /** Resolves on the next change or restore; `cancel` drops the subscription. */
  next(): { promise: Promise<'change' | 'restore'>; cancel: () => void } {
    let waiter: Waiter = () => {};
    const promise = new Promise<'change' | 'restore'>((resolve) => {
      waiter = resolve;
      this.#waiters.add(waiter);
    });
    return { promise, cancel: () => this.#waiters.delete(waiter) };
  }

  #wake(reason: 'change' | 'restore'): void {
    const waiters = [...this.#waiters];
    this.#waiters.clear();
    for (const waiter of waiters) waiter(reason);
  }
}

/**
 * How a snapshot restore lowers indexes: halving keeps their order (never strictly reversing
 * two) and makes every index above 1 go backwards, which is the case clients must survive.
 */
export function restoredIndex(index: number): number {
  return Math.max(1, Math.floor(index / 2));
}
