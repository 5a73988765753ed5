/**
 * Counters per second over the last N seconds, in fixed memory: the admin page's rates, success
 * rates and sparklines. One slot per second of a ring; a slot is reused (cleared) when its
 * second comes round again, so a quiet service costs nothing to keep and nothing ever grows.
 */

export class SecondRing<Field extends string> {
  readonly #length: number;
  readonly #fields: readonly Field[];
  /** The second each slot holds (-1: never used). */
  readonly #stamps: Float64Array;
  /** One column per field, `#length` slots each. */
  readonly #columns: Float64Array[];
  #latest = -1;

  constructor(fields: readonly Field[], seconds: number) {
    this.#length = seconds;
    this.#fields = fields;
    this.#stamps = new Float64Array(seconds).fill(-1);
    this.#columns = fields.map(() => new Float64Array(seconds));
  }

  /** The latest second anything was added in (-1: never): how long the ring has been idle. */
  get latest(): number {
    return this.#latest;
  }

  /** Adds `n` to `field` in the slot of `second` (whole seconds of the collector's clock). */
  add(second: number, field: Field, n = 1): void {
    const slot = this.#slot(second);
    this.#columns[this.#fields.indexOf(field)]![slot]! += n;
  }

  /** The sum of `field` over the `seconds` whole seconds before `now` (the second in progress excluded: it is partial). */
  sum(now: number, field: Field, seconds: number): number {
    const column = this.#columns[this.#fields.indexOf(field)]!;
    let total = 0;
    for (let second = now - Math.min(seconds, this.#length - 1); second < now; second++) {
      const slot = second % this.#length;
      if (this.#stamps[slot] === second) total += column[slot]!;
    }
    return total;
  }

  /** `field` per second, oldest first, for the `seconds` whole seconds before `now` (0 where nothing happened). */
  series(now: number, field: Field, seconds: number): number[] {
    const column = this.#columns[this.#fields.indexOf(field)]!;
    const points: number[] = [];
    for (let second = now - Math.min(seconds, this.#length - 1); second < now; second++) {
      const slot = second % this.#length;
      points.push(this.#stamps[slot] === second ? column[slot]! : 0);
    }
    return points;
  }

  #slot(second: number): number {
    const slot = second % this.#length;
    if (this.#stamps[slot] !== second) {
      this.#stamps[slot] = second;
      for (const column of this.#columns) column[slot] = 0;
      if (second > this.#latest) this.#latest = second;
    }
    return slot;
  }
}
