/**
 * A fast, well-mixed, non-cryptographic 32-bit string hash for the hash ring: MurmurHash3's
 * x86_32 over UTF-16 code units. Why not FNV alone: ring points are named `host:port#0`,
 * `host:port#1`…, strings that differ in a byte or two, and FNV leaves them clustered; the
 * murmur mix spreads them evenly. Allocation-free, so hashing a key per pick costs nothing
 * but arithmetic.
 */

export function hashString(text: string, seed = 0): number {
  let h = seed >>> 0;
  const length = text.length;
  let i = 0;
  // Two UTF-16 code units per 32-bit block.
  for (; i + 1 < length; i += 2) {
    let k = (text.charCodeAt(i) | (text.charCodeAt(i + 1) << 16)) >>> 0;
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
    h = (h << 13) | (h >>> 19);
    h = (Math.imul(h, 5) + 0xe6546b64) | 0;
  }
  if (i < length) {
    let k = text.charCodeAt(i);
    k = Math.imul(k, 0xcc9e2d51);
    k = (k << 15) | (k >>> 17);
    k = Math.imul(k, 0x1b873593);
    h ^= k;
  }
  h ^= length;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
