/**
 * The expiry queue behind attempt time limits: entries expire at their time (never early),
 * entries cancelled in time never expire, and entries of one duration share one clock timer
 * instead of arming one each, which is the point of the queue. The shared timer keeps the
 * process alive exactly while entries wait on it (issue 15).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Clock, ManualClock, type TimerHandle } from '../../src/core/clock.ts';
import { Expiring, ExpiryQueue } from '../../src/core/expiry-queue.ts';

class Entry extends Expiring {
  expiredAt: number | undefined;
  readonly #clock: Clock;

  constructor(clock: Clock) {
    super();
    this.#clock = clock;
  }

  expire(): void {
    assert.equal(this.expiredAt, undefined, 'an entry expires once');
    this.expiredAt = this.#clock.now();
  }
}

/** A manual clock that counts the timers armed on it (the queue's are call timers). */
class CountingClock extends ManualClock {
  armed = 0;
  readonly #timers: TimerHandle[] = [];

  override setCallTimer(fn: () => void, ms: number): TimerHandle {
    this.armed++;
    const timer = super.setCallTimer(fn, ms);
    this.#timers.push(timer);
    return timer;
  }

  /** Timers armed and neither fired nor cancelled (the manual clock marks a fired timer cancelled). */
  get pending(): number {
    return this.#timers.filter((t) => !(t as TimerHandle & { cancelled: boolean }).cancelled).length;
  }
}

describe('expiry queue', () => {
  it('expires an entry at its time limit, not before', () => {
    const clock = new CountingClock();
    const queue = new ExpiryQueue(clock);
    const entry = new Entry(clock);
    queue.add(entry, clock.now(), 100);
    clock.advance(99);
    assert.equal(entry.expiredAt, undefined);
    clock.advance(1);
    assert.equal(entry.expiredAt, 100);
    assert.equal(queue.size, 0);
  });

  it('never expires an entry cancelled in time', () => {
    const clock = new CountingClock();
    const queue = new ExpiryQueue(clock);
    const kept = new Entry(clock);
    const cancelled = new Entry(clock);
    queue.add(cancelled, clock.now(), 50);
    clock.advance(10);
    queue.add(kept, clock.now(), 50);
    cancelled.cancelExpiry();
    cancelled.cancelExpiry(); // a second cancel is a no-op
    clock.advance(1000);
    assert.equal(cancelled.expiredAt, undefined);
    assert.equal(kept.expiredAt, 60, 'the timer re-arms for the entry behind a cancelled head');
  });

  it('shares one timer among entries of the same duration', () => {
    const clock = new CountingClock();
    const queue = new ExpiryQueue(clock);
    const entries: Entry[] = [];
    for (let i = 0; i < 1000; i++) {
      const entry = new Entry(clock);
      queue.add(entry, clock.now(), 10_000);
      entries.push(entry);
      clock.advance(1);
      // Most attempts end long before their limit.
      if (i % 10 !== 0) entry.cancelExpiry();
    }
    assert.ok(clock.armed <= 2, `armed ${clock.armed} timers for 1000 entries`);
    clock.advance(20_000);
    const expired = entries.filter((e) => e.expiredAt !== undefined);
    assert.equal(expired.length, 100);
    for (const entry of expired) assert.equal(entry.expiredAt, entry.expiresAt, 'each at its own time');
    assert.ok(clock.armed <= 102, `re-arms once per expiry at most, armed ${clock.armed}`);
  });

  it('keeps durations apart, so a short limit is not stuck behind a long one', () => {
    const clock = new CountingClock();
    const queue = new ExpiryQueue(clock);
    const long = new Entry(clock);
    const short = new Entry(clock);
    queue.add(long, clock.now(), 5000);
    queue.add(short, clock.now(), 20);
    clock.advance(20);
    assert.equal(short.expiredAt, 20);
    assert.equal(long.expiredAt, undefined);
  });

  it('expires a fractional limit no earlier than its exact time', () => {
    const clock = new CountingClock(0.25);
    const queue = new ExpiryQueue(clock);
    const entry = new Entry(clock);
    queue.add(entry, clock.now(), 9.5);
    clock.advance(9);
    assert.equal(entry.expiredAt, undefined);
    clock.advance(2);
    assert.ok(entry.expiredAt !== undefined && entry.expiredAt >= 9.75);
  });

  it('close cancels every timer and forgets every entry', () => {
    const clock = new CountingClock();
    const queue = new ExpiryQueue(clock);
    const entry = new Entry(clock);
    queue.add(entry, clock.now(), 10);
    queue.close();
    assert.equal(queue.size, 0);
    clock.advance(100);
    assert.equal(entry.expiredAt, undefined);
  });

  it('regression: retire keeps the limits of entries still queued and drops each timer as its list empties', () => {
    const clock = new CountingClock();
    const queue = new ExpiryQueue(clock);
    const reading = new Entry(clock);
    const ending = new Entry(clock);
    const idle = new Entry(clock);
    queue.add(reading, clock.now(), 100);
    queue.add(ending, clock.now(), 200);
    queue.add(idle, clock.now(), 300);
    idle.cancelExpiry();
    queue.retire();
    assert.equal(queue.size, 2, 'the entries still running keep their limits');
    assert.equal(clock.pending, 2, "the empty list's timer is gone, not left armed for nobody");
    assert.equal(clock.keepingAlive, 0, "a retired queue's limits (response bodies) no longer hold the process: a body never read must not keep a closed mesh's script alive");
    ending.cancelExpiry();
    assert.equal(clock.pending, 1);
    clock.advance(100);
    assert.equal(reading.expiredAt, 100, 'an entry queued before retire still expires at its time');
    assert.equal(ending.expiredAt, undefined);
    assert.equal(clock.keepingAlive, 0);
    assert.equal(clock.pending, 0, 'no timer left armed');
  });

  it('keeps the process alive while entries wait, and lets it go as the last one ends', () => {
    const clock = new CountingClock();
    const queue = new ExpiryQueue(clock);
    const first = new Entry(clock);
    const second = new Entry(clock);
    queue.add(first, clock.now(), 1000);
    assert.equal(clock.keepingAlive, 1, 'a call waits on its limit: a one-shot script must not exit under it');
    queue.add(second, clock.now(), 1000);
    assert.equal(clock.keepingAlive, 1, 'entries of one duration share the one timer');
    first.cancelExpiry();
    assert.equal(clock.keepingAlive, 1, 'the second entry still waits');
    second.cancelExpiry();
    assert.equal(clock.keepingAlive, 0, 'armed for nobody, the timer does not hold an idle mesh open');
    const third = new Entry(clock);
    queue.add(third, clock.now(), 1000);
    assert.equal(clock.armed, 1, 'the timer still armed is reused, not re-armed');
    assert.equal(clock.keepingAlive, 1, 'and holds the process again for the new entry');
    clock.advance(1000);
    assert.equal(third.expiredAt, 1000);
    assert.equal(clock.keepingAlive, 0, 'nothing left after the last entry expired');
  });

  it('lets the process go once every entry expired, and holds it again for the entries still waiting', () => {
    const clock = new CountingClock();
    const queue = new ExpiryQueue(clock);
    const early = new Entry(clock);
    const late = new Entry(clock);
    queue.add(early, clock.now(), 100);
    clock.advance(50);
    queue.add(late, clock.now(), 100);
    clock.advance(50);
    assert.equal(early.expiredAt, 100);
    assert.equal(clock.keepingAlive, 1, 'the timer re-armed for the entry behind keeps the process alive');
    late.cancelExpiry();
    assert.equal(clock.keepingAlive, 0);
  });
});
