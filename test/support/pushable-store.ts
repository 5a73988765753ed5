/** A control store tests push documents into, as a watched file or Consul KV would (config pushes reaching live clients and stacks). */
import type { ControlListener, ControlStore } from '../../src/index.ts';

export function pushableStore(first: unknown): ControlStore & { push(document: unknown): void } {
  let listener: ControlListener | undefined;
  return {
    source: 'test:pushable',
    async watch(l) {
      listener = l;
      l.snapshot(first);
    },
    async close() {},
    push(document) {
      listener?.snapshot(document);
    },
  };
}
