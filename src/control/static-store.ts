/**
 * The store for a mesh with no control plane: the bootstrap config is the whole config, so
 * it delivers nothing. Given a document, it delivers that once (tests, embedded configs).
 */
import type { ControlListener, ControlStore } from './control-store.ts';

export class StaticControlStore implements ControlStore {
  readonly source = 'static';
  readonly #document: unknown;

  constructor(document?: unknown) {
    this.#document = document;
  }

  async watch(listener: ControlListener): Promise<void> {
    if (this.#document !== undefined) listener.snapshot(this.#document);
  }

  async close(): Promise<void> {}
}
