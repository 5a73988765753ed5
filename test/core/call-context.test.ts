/**
 * The inbound context's scope (core/call-context.ts `enterInbound`): entered over whatever
 * context it is run in, seen by what the function starts, restored when it returns or throws.
 */
import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { it } from 'node:test';
import { currentInbound, enterInbound, type InboundContext } from '../../src/core/call-context.ts';

it("enterInbound: the context is seen inside and by what it starts, over the application's own stores, and gone after it returns or throws", async () => {
  const app = new AsyncLocalStorage<string>();
  const outer: InboundContext = { deadline: 1 };
  const inner: InboundContext = { deadline: 2 };
  const seen: unknown[] = [];
  let later: Promise<void> | undefined;
  app.run('app', () =>
    enterInbound(outer, () => {
      enterInbound(inner, () => {
        seen.push(app.getStore(), currentInbound());
        later = new Promise<void>((resolve) =>
          setImmediate(() => {
            seen.push(currentInbound(), app.getStore());
            resolve();
          }),
        );
      });
      seen.push(currentInbound());
      assert.throws(() =>
        enterInbound(inner, () => {
          throw new Error('handler bug');
        }),
      );
      seen.push(currentInbound(), app.getStore());
    }),
  );
  seen.push(currentInbound());
  await later;
  assert.deepEqual(seen, ['app', inner, outer, outer, 'app', undefined, inner, 'app']);
});
