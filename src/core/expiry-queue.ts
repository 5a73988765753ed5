/**
 * Time limits for many short-lived things (attempts) without a Node timer each. Every
 * attempt has a time limit, and nearly every attempt ends long before it: arming and
 * cancelling a `setTimeout` per attempt (a Timeout object, a timer-list insert, a ref toggle,
 * a closure) cost more than the rest of the attempt layer together.
 *
 * So entries with the same duration (rounded up to the millisecond) share one FIFO list:
 * entries are appended in the order they start, so the list is ordered by expiry (to within
 * that millisecond), and one clock timer per list, armed for its head, is enough. Adding and
 * cancelling an entry is O(1) and allocates nothing: the links live on the entry itself (an
 * intrusive list, as in Netty's and Finagle's timer wheels). When the timer fires it expires
 * the due heads and re-arms for the next one, so a list whose entries all end early costs one
 * timer per duration, not one per entry.
 *
 * An entry expires no earlier than its time and at most about a millisecond later: the same
 * precision as a Node timer.
 *
 * A list's timer is a call timer: it keeps the process alive while the list holds entries
 * (calls in flight wait on their limits; a one-shot script must not exit under them), and
 * lets it go as the list empties, so an idle mesh never holds a script open for the length of
 * a timeout it no longer needs. The toggle is a flag on the existing Node timer, not a
 * re-arm, and happens only as a list turns empty or non-empty.
 */
import type { Clock, TimerHandle } from './clock.ts';

/** Something with a time limit. The link fields belong to the queue; leave them alone. */
export abstract class Expiring {
  expiresAt = 0;
  expiryPrev: Expiring | undefined = undefined;
  expiryNext: Expiring | undefined = undefined;
  expiryList: ExpiryList | undefined = undefined;

  /** Called once, by the queue, when the time limit passes first. */
  abstract expire(): void;

  /** Takes this entry out of its queue (it ended in time); a no-op when it is not queued. */
  cancelExpiry(): void {
    const list = this.expiryList;
    if (list === undefined) return;
    const { expiryPrev: prev, expiryNext: next } = this;
    if (prev === undefined) list.head = next;
    else prev.expiryNext = next;
    if (next === undefined) list.tail = prev;
    else next.expiryPrev = prev;
    this.expiryPrev = undefined;
    this.expiryNext = undefined;
    this.expiryList = undefined;
    // NOTE: the list's timer stays armed even when the list empties: an entry is likely to
    // follow at once, and re-arming per entry is the cost this queue exists to avoid. Armed
    // for nobody, it must not keep the process alive. A retired queue expects no entry.
    if (list.head !== undefined) return;
    if (list.retired) {
      list.timer?.cancel();
      list.timer = undefined;
    } else {
      list.timer?.keepAlive(false);
    }
  }
}

class ExpiryList {
  head: Expiring | undefined = undefined;
  tail: Expiring | undefined = undefined;
  timer: TimerHandle | undefined = undefined;
  /** Its queue was retired: the timer goes as soon as the list is empty. */
  retired = false;
  readonly key: number;

  constructor(key: number) {
    this.key = key;
  }
}

export class ExpiryQueue {
  readonly #clock: Clock;
  readonly #lists = new Map<number, ExpiryList>();

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /** Expires `entry` `ms` after `now` unless `entry.cancelExpiry()` is called first. `ms` must be finite. */
  add(entry: Expiring, now: number, ms: number): void {
    const key = Math.ceil(ms);
    let list = this.#lists.get(key);
    if (list === undefined) {
      list = new ExpiryList(key);
      this.#lists.set(key, list);
    }
    entry.expiresAt = now + ms;
    entry.expiryList = list;
    entry.expiryPrev = list.tail;
    entry.expiryNext = undefined;
    list.tail = entry;
    if (entry.expiryPrev !== undefined) {
      entry.expiryPrev.expiryNext = entry;
      return;
    }
    list.head = entry;
    // The list was empty: its timer, if still armed, was let go (see `cancelExpiry`).
    if (list.timer === undefined) this.#arm(list, ms);
    else list.timer.keepAlive(true);
  }

  /** Entries currently waiting (for state and tests). */
  get size(): number {
    let size = 0;
    for (const list of this.#lists.values()) for (let e = list.head; e !== undefined; e = e.expiryNext) size++;
    return size;
  }

  /**
   * Its owner takes no new entries (a closed layer whose last calls may still be reading their
   * response bodies): the entries queued keep their limits and expire as usual, and each list's
   * timer is cancelled once the list is empty, rather than left armed for entries to come.
   */
  retire(): void {
    for (const list of this.#lists.values()) {
      list.retired = true;
      if (list.head === undefined) {
        list.timer?.cancel();
        list.timer = undefined;
      } else {
        // NOTE: what is left are limits on response bodies (the layer retires once its last
        // call has its head). A body still arriving holds its socket, which keeps the process
        // alive; a body that arrived and is never read must not hold a closed mesh's process
        // until its limit passes (test/integration/liveness.test.ts).
        list.timer?.keepAlive(false);
      }
    }
  }

  /** Cancels every timer; queued entries never expire. */
  close(): void {
    for (const list of this.#lists.values()) {
      list.timer?.cancel();
      list.timer = undefined;
      while (list.head !== undefined) list.head.cancelExpiry();
    }
    this.#lists.clear();
  }

  #arm(list: ExpiryList, ms: number): void {
    list.timer = this.#clock.setCallTimer(() => this.#fire(list), Math.max(1, Math.ceil(ms)));
  }

  #fire(list: ExpiryList): void {
    list.timer = undefined;
    const now = this.#clock.now();
    for (let head = list.head; head !== undefined && head.expiresAt <= now; head = list.head) {
      head.cancelExpiry();
      head.expire();
    }
    // An entry added from inside expire() to the emptied list has armed it already.
    if (list.timer !== undefined) return;
    if (list.head !== undefined) this.#arm(list, list.head.expiresAt - now);
    else if (this.#lists.get(list.key) === list) this.#lists.delete(list.key);
  }
}
