/**
 * The cancellation handle the transport gives undici for one attempt. It fires at the
 * attempt's time limit (the call's deadline or the per-try timeout, whichever is first) and
 * when the attempt's AbortSignal (caller, inbound request, losing hedge) aborts. It lives as
 * long as undici listens to it: until the response body is read or destroyed, or the request
 * fails; then it disposes itself (no timer, no link to the parent left behind).
 *
 * Why not an AbortController: creating an AbortSignal and registering on it (EventTarget)
 * cost about 4 µs per call on the hot path, more than the rest of the stack together. undici
 * accepts any EventEmitter-shaped signal (`once`/`removeListener`, `aborted`, `reason`), and
 * one listener is all it ever registers, so this is a plain object with one slot. Its time
 * limit is an entry in an `ExpiryQueue`, not a timer of its own (expiry-queue.ts says why).
 */
import { Expiring } from './expiry-queue.ts';

type Listener = () => void;

export class AttemptSignal extends Expiring {
  aborted = false;
  reason: unknown = undefined;
  /** The response head arrived (set by the transport): what is left is the caller's body read. */
  responded = false;
  #listener: Listener | undefined = undefined;
  #parent: AbortSignal | undefined = undefined;
  #onParentAbort: Listener | undefined = undefined;

  /** Aborts when the parent aborts, with the reason `parentAborted` makes of the parent's. */
  follow(parent: AbortSignal): void {
    this.#parent = parent;
    this.#onParentAbort = () => this.abort(this.parentAborted(parent.reason));
    parent.addEventListener('abort', this.#onParentAbort, { once: true });
  }

  /** The time limit passed (the signal's `ExpiryQueue` calls this). */
  expire(): void {
    this.abort(this.timedOut());
  }

  /** The reason given when the time limit passes; the attempt layer says which limit it was. */
  protected timedOut(): unknown {
    return new Error('attempt time limit reached');
  }

  /** The reason given when the parent aborts; the attempt layer makes it a MESH_ABORTED. */
  protected parentAborted(reason: unknown): unknown {
    return reason;
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.dispose();
    const listener = this.#listener;
    this.#listener = undefined;
    listener?.();
  }

  /** Stops the time limit and unlinks from the parent: the attempt is over. */
  dispose(): void {
    this.cancelExpiry();
    if (this.#onParentAbort !== undefined) this.#parent?.removeEventListener('abort', this.#onParentAbort);
    this.#onParentAbort = undefined;
  }

  // The EventEmitter surface undici uses. NOTE: undici registers exactly one listener per
  // request; a second registration would replace the first, so it is refused loudly.
  once(_event: 'abort', listener: Listener): this {
    if (this.#listener !== undefined && this.#listener !== listener) throw new Error('AttemptSignal takes one listener');
    this.#listener = listener;
    return this;
  }

  on(event: 'abort', listener: Listener): this {
    return this.once(event, listener);
  }

  /** undici unregisters when the request is over (body closed, or failed): so is the attempt. */
  removeListener(_event: 'abort', listener: Listener): this {
    if (this.#listener !== listener) return this;
    this.#listener = undefined;
    this.dispose();
    return this;
  }
}
