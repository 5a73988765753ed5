/**
 * One variant of the grpc-overhead benchmark in a process of its own (so neither variant's
 * garbage, JIT state or event-loop backlog lands on the other's rounds): `bare` is a plain
 * grpc-js client on `127.0.0.1:port` (`bare-aa`: the same again, the A/A control;
 * `bare-deadline`: with a 10 s deadline per call); `mesh` is `mesh.grpc('inventory', …)` over a static
 * endpoint with the default policy (deadline, retry + budget, outlier ejection, p2c-ewma).
 * Driven over IPC: each command runs one round and answers with its figures. A latency round
 * also times the synchronous part of each call (from the method call until it returns: what the
 * caller's thread does before the request can leave), so a gap in p50 can be read as work on the
 * caller's thread or as time elsewhere (the wire, the server, an event-loop turn).
 */
import grpc from '@grpc/grpc-js';
import '../../src/transport/grpc/index.ts';
import { createMesh } from '../../src/index.ts';
import { throughput } from './driver.ts';
import { type Any, InventoryClient } from './grpc-inventory.ts';

export type GrpcCallerCommand = { kind: 'throughput'; concurrency: number; ms: number } | { kind: 'latency'; calls: number } | { kind: 'stop' };
export type GrpcCallerReply = { kind: 'ready' } | { kind: 'throughput'; perSecond: number; cpuPerCallUs: number; calls: number } | { kind: 'latency'; samplesUs: number[]; issueUs: number[] };

const [variant, port] = process.argv.slice(2);
const address = `127.0.0.1:${port}`;
let client: Any;
let close = async (): Promise<void> => {};
if (variant === 'mesh') {
  const mesh = await createMesh({ service: 'bench', config: { services: { inventory: { endpoints: [address] } } } });
  client = mesh.grpc('inventory', InventoryClient);
  close = () => mesh.close();
} else {
  client = new InventoryClient(address, grpc.credentials.createInsecure());
}
const request = { id: 'item' };
// `bare-deadline`: the bare client with the 10 s deadline meshlet's default timeout sends, so the
// cost grpc-js itself pays for a deadline (its timer, the grpc-timeout header) shows apart.
const withDeadline = variant === 'bare-deadline';
const call = (): Promise<unknown> =>
  new Promise((resolve, reject) => {
    const done = (error: unknown, answer: unknown) => (error ? reject(error) : resolve(answer));
    if (withDeadline) client.GetItem(request, { deadline: Date.now() + 10_000 }, done);
    else client.GetItem(request, done);
  });

/** `calls` sequential calls (at most 10 s): each call's whole time and its synchronous part, in µs. */
async function latencyRound(calls: number): Promise<{ samplesUs: number[]; issueUs: number[] }> {
  const total: number[] = [];
  const issue: number[] = [];
  const end = performance.now() + 10_000;
  while (total.length < calls && performance.now() < end) {
    const start = performance.now();
    const answered = call();
    issue.push((performance.now() - start) * 1000);
    await answered;
    total.push((performance.now() - start) * 1000);
  }
  return { samplesUs: total, issueUs: issue };
}

const reply = (message: GrpcCallerReply): void => {
  process.send?.(message);
};

process.on('message', async (command: GrpcCallerCommand) => {
  if (command.kind === 'throughput') {
    const result = await throughput(call, command.concurrency, command.ms);
    reply({ kind: 'throughput', perSecond: result.perSecond, cpuPerCallUs: result.cpuPerCallUs, calls: result.calls });
  } else if (command.kind === 'latency') {
    reply({ kind: 'latency', ...(await latencyRound(command.calls)) });
  } else {
    client.close();
    await close();
    process.exit(0);
  }
});
await throughput(call, 4, 300); // connection and JIT warm-up
reply({ kind: 'ready' });
