/**
 * Fault hooks tests arm to make the emulator misbehave the way a real agent can: an index of 0
 * on every read, the next N requests failing with a status (500, 429, …), the next N requests
 * hanging until the agent stops. (Snapshot restore lives with the stores it rewrites; see index.ts.)
 */

export type Fault = { readonly kind: 'hang' } | { readonly kind: 'fail'; readonly status: number; readonly body: string };

export class Faults {
  /** When on, every read answers `X-Consul-Index: 0` (a broken proxy or agent; BLKDOC rule 2). */
  zeroIndex = false;
  #fail: { status: number; body: string }[] = [];
  #hang = 0;

  /** The next `count` requests answer `status` with `body` (default: empty, as Consul's 429 is). */
  failNext(count: number, status: number, body = ''): void {
    for (let i = 0; i < count; i++) this.#fail.push({ status, body });
  }

  /** The next `count` requests get no answer at all until the agent stops or closes. */
  hangNext(count: number): void {
    this.#hang += count;
  }

  /** The fault the next request suffers, if any (consumes it). */
  take(): Fault | undefined {
    const fail = this.#fail.shift();
    if (fail !== undefined) return { kind: 'fail', ...fail };
    if (this.#hang > 0) {
      this.#hang--;
      return { kind: 'hang' };
    }
    return undefined;
  }
}
