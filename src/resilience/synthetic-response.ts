/**
 * A response made in-process (fault injection's aborts) that callers cannot tell from one
 * undici returned: undici does not export its BodyReadable, so this is a real `Readable`
 * with the same body mixin (`text`, `json`, `arrayBuffer`, `bytes`, `blob`, `dump`,
 * `bodyUsed`); streaming it, piping it or dumping it all work as they do on undici's.
 */
import { Blob } from 'node:buffer';
import { Readable } from 'node:stream';
import type { MeshResponse } from '../core/service.ts';

class SyntheticBody extends Readable {
  readonly #payload: Buffer;
  #used = false;

  constructor(payload: Buffer) {
    super();
    this.#payload = payload;
  }

  override _read(): void {
    if (!this.#used) {
      this.#used = true;
      this.push(this.#payload);
    }
    this.push(null);
  }

  get bodyUsed(): boolean {
    return this.#used;
  }

  async bytes(): Promise<Uint8Array> {
    if (this.#used) throw new TypeError('Body is unusable: Body has already been read');
    this.#used = true;
    this.push(null);
    this.resume();
    return new Uint8Array(this.#payload);
  }

  async text(): Promise<string> {
    return Buffer.from(await this.bytes()).toString('utf8');
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }

  async arrayBuffer(): Promise<ArrayBuffer> {
    const bytes = await this.bytes();
    return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  }

  async blob(): Promise<Blob> {
    return new Blob([Buffer.from(await this.bytes())]);
  }

  async dump(): Promise<void> {
    this.#used = true;
    this.destroy();
  }
}

export function syntheticResponse(statusCode: number, message: string): MeshResponse {
  const payload = Buffer.from(JSON.stringify({ error: message }), 'utf8');
  return {
    statusCode,
    statusText: '',
    headers: {
      'content-type': 'application/json',
      'content-length': String(payload.length),
      'x-meshlet-fault': 'abort',
    },
    trailers: {},
    body: new SyntheticBody(payload),
  };
}
