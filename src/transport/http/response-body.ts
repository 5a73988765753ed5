/**
 * The response body callers get: undici's own BodyReadable (so it is exactly the body
 * `Dispatcher.request` gives, DESIGN §1), whose every error a caller sees is a MeshError, and
 * whose destruction (reading it to the end destroys it too) ends its attempt: no `close`
 * listener per body.
 *
 * NOTE: BodyReadable and the header parser are undici's internals (lib/api/readable.js,
 * lib/core/util.js, in place through undici 5–7), loaded from the same package instance.
 */
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import type { Attempt } from '../../core/attempt.ts';
import { bodyFailure } from './errors.ts';

type DestroyCallback = (error?: Error | null) => void;
export type UndiciAbort = (reason?: unknown) => void;
export type Headers = Record<string, string | string[] | undefined>;

export interface BodyOptions {
  readonly resume: () => void;
  readonly abort: UndiciAbort | undefined;
  readonly contentType: string | string[] | undefined;
  readonly contentLength: number | null;
}

interface UndiciBody extends Readable {
  _destroy(error: Error | null, callback: DestroyCallback): void;
}

/** What a body ends when it is destroyed. */
export interface BodyOwner {
  readonly attempt: Attempt;
  release(): void;
}

const require = createRequire(import.meta.url);
const BodyReadable = (require('undici/lib/api/readable.js') as { Readable: new (options: BodyOptions) => UndiciBody }).Readable;
export const undiciUtil = require('undici/lib/core/util.js') as {
  parseHeaders(raw: Buffer[], into?: Headers): Headers;
  destroy(stream: unknown, error?: unknown): void;
  isStream(value: unknown): boolean;
};

export function noop(): void {}

/** Every error a caller sees is a MeshError (`bodyFailure`), the undici error kept as its cause. */
export class MeshBody extends BodyReadable {
  readonly #handler: BodyOwner;

  constructor(options: BodyOptions, handler: BodyOwner) {
    super(options);
    this.#handler = handler;
  }

  override _destroy(error: Error | null, callback: DestroyCallback): void {
    const handler = this.#handler;
    handler.release();
    if (error === null && this.readableEnded) {
      super._destroy(error, callback);
      return;
    }
    const attempt = handler.attempt;
    super._destroy(error, (failure) => callback(bodyFailure(failure, attempt.call.service, attempt.endpoint?.address.id) as Error | null | undefined));
  }
}
