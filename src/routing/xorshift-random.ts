/**
 * Draws that allocate nothing. `Math.random` returns a double, which V8 boxes into a 16-byte
 * HeapNumber whenever it crosses a call it does not inline (bench/route-match.ts measures it at
 * 16 bytes a draw in Node 24, even wrapped in a small function), and a split takes its draws
 * injected, so a pick would pay that on every call. Integers in the small-integer range are never
 * boxed, so a split draws integers: Marsaglia's xorshift32 reduced modulo the bound (the modulo
 * bias is below 2e-6 for a bound of 10000). Not for anything secret: it spreads load. Seeded from
 * Math.random when no seed is given.
 */

/** An integer in [0, bound) each call. */
export type IntegerDraw = () => number;

export function xorshiftDraw(bound: number, seed = Math.floor(Math.random() * 0xffffffff)): IntegerDraw {
  let state = seed >>> 0 || 0x9e3779b9; // 0 is xorshift's one fixed point
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) % bound;
  };
}

/** Integer draws from a [0, 1) source (Math.random, a seeded test source); allocates as the source does. */
export function drawFrom(random: () => number, bound: number): IntegerDraw {
  return () => Math.floor(random() * bound);
}
