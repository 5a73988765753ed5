/**
 * `npm run demo`'s gRPC leg: after the HTTP traffic the same mesh calls two grpc-js instances
 * of 'inventory' through mesh.grpc(): every unary call answered, spread over both instances,
 * a server stream and a bidi stream through the mesh, and the process still exits on its own.
 */
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { assertExitedOnItsOwn, runDemo } from './run-demo.ts';

it('npm run demo: the gRPC leg answers every call over both instances, streams included, and exits on its own', async () => {
  const run = await runDemo([], 400);
  assertExitedOnItsOwn(run);
  const leg = /^gRPC leg: 40 unary calls to 'inventory' through mesh\.grpc\(\) in \d+ ms: answered by grpc-a (\d+), grpc-b (\d+); failed 0$/m.exec(run.stdout);
  assert.ok(leg !== null, `no gRPC leg line, or a call failed:\n${run.stdout}`);
  assert.equal(Number(leg[1]) + Number(leg[2]), 40);
  assert.match(run.stdout, /^ {2}server stream: shelf-0@grpc-[ab] shelf-1@grpc-[ab] shelf-2@grpc-[ab]$/m);
  assert.match(run.stdout, /^ {2}bidi stream: ping-1@(grpc-[ab]) ping-2@\1 ping-3@\1$/m);
});
