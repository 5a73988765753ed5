/**
 * The adapter examples (examples/express, examples/fastify, examples/nestjs: the README's
 * snippets) run: each serves one checkout through meshlet to its stand-in payments service,
 * prints the answer and exits by itself after its shutdown. The three run side by side.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runScriptToExit } from '../support/child-script.ts';

it('examples/express, examples/fastify and examples/nestjs serve a checkout through meshlet and exit', async () => {
  await Promise.all(
    ['express', 'fastify', 'nestjs'].map(async (framework) => {
      const script = fileURLToPath(new URL(`../../examples/${framework}/main.ts`, import.meta.url));
      const { stdout } = await runScriptToExit(script, [], { killAfterMs: 90_000, what: `examples/${framework}` });
      assert.match(stdout, /^20[01] \{ charged: true \}$/m, `examples/${framework} printed ${stdout}`);
    }),
  );
});
