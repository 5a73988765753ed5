/**
 * The data plane pays nothing per call for a config that comes from Consul (issue 10): the
 * same loopback backend (support/tiny-server.ts, its own process) is called by two meshes,
 * each in a process of its own, with the same policy: one from code (`static`, the baseline),
 * one from Consul KV with its watch live (`consul`), and a second `static` process whose
 * difference from the first is the noise floor of the run. Rounds alternate after a warm-up so
 * machine noise hits both alike; printed are the medians of throughput at 32 concurrent
 * callers and of the caller's CPU per call, and the ratio to the baseline. The Consul
 * emulator runs in this process (no Consul binary exists on our machines).
 * Goal: CPU/call and throughput within noise of static (the control plane is off the call
 * path: a snapshot swap, never a per-call read). Never fails on timing.
 * Run: node bench/consul-overhead.ts   (BENCH_ROUNDS, BENCH_ROUND_MS change the rounds)
 */
import { type ChildProcess, fork } from 'node:child_process';
import { startConsulEmulator } from '../test/support/consul-emulator/index.ts';
import type { ConsulCallerCommand, ConsulCallerReply } from './support/consul-overhead-caller.ts';
import { startTinyServer } from './support/processes.ts';
import { formatRatio, median } from './support/stats.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 8);
const ROUND_MS = Number(process.env.BENCH_ROUND_MS ?? 1000);
const CONCURRENCY = 32;

class Caller {
  readonly name: string;
  readonly #child: ChildProcess;
  #waiting: { resolve(reply: ConsulCallerReply): void; reject(error: Error): void } | undefined;
  readonly #early: ConsulCallerReply[] = [];
  readonly perSecond: number[] = [];
  readonly cpuPerCallUs: number[] = [];

  constructor(variant: string, args: string[], name = variant) {
    this.name = name;
    const script = new URL('./support/consul-overhead-caller.ts', import.meta.url).pathname;
    this.#child = fork(script, [variant, ...args], { execPath: process.execPath, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    this.#child.on('message', (reply: ConsulCallerReply) => {
      const waiting = this.#settle();
      // A reply nobody waits for yet (`ready` before the parent asks) is kept for the next ask.
      if (waiting === undefined) this.#early.push(reply);
      else waiting.resolve(reply);
    });
    this.#child.on('exit', (code) => this.#settle()?.reject(new Error(`${this.name} caller exited with ${code}`)));
  }

  /** The next reply (after sending `command`, if given); one question at a time. */
  next(command?: ConsulCallerCommand): Promise<ConsulCallerReply> {
    const early = this.#early.shift();
    if (early !== undefined) return Promise.resolve(early);
    return new Promise((resolve, reject) => {
      this.#waiting = { resolve, reject };
      if (command !== undefined) this.#child.send(command);
    });
  }

  #settle(): { resolve(reply: ConsulCallerReply): void; reject(error: Error): void } | undefined {
    const waiting = this.#waiting;
    this.#waiting = undefined;
    return waiting;
  }

  async round(ms: number): Promise<void> {
    const reply = await this.next({ kind: 'throughput', concurrency: CONCURRENCY, ms });
    if (reply.kind !== 'throughput') throw new Error(`${this.name} answered ${reply.kind}`);
    this.perSecond.push(reply.perSecond);
    this.cpuPerCallUs.push(reply.cpuPerCallUs);
  }

  stop(): Promise<void> {
    const exited = new Promise<void>((resolve) => this.#child.once('exit', () => resolve()));
    this.#child.disconnect();
    return exited;
  }
}

const backend = await startTinyServer();
const consul = await startConsulEmulator();
await consul.kv.put('meshlet/services/api', JSON.stringify({ endpoints: [`127.0.0.1:${backend.port}`] }));
// A second static process is the noise floor: what two identical meshes differ by in this run.
const callers = [
  new Caller('static', [String(backend.port)]),
  new Caller('consul', [String(backend.port), String(consul.port)]),
  new Caller('static', [String(backend.port)], 'static-2'),
];
for (const caller of callers) {
  const ready = await caller.next();
  if (ready.kind !== 'ready') throw new Error(`${caller.name} answered ${ready.kind}`);
  console.log(`${caller.name}: config from ${ready.source}; blocking queries open: ${ready.openBlockingQueries}`);
}
for (const caller of callers) await caller.next({ kind: 'throughput', concurrency: CONCURRENCY, ms: ROUND_MS }); // warm-up
for (let round = 0; round < ROUNDS; round++) {
  // A rotating order, so no variant always runs right after another.
  for (let i = 0; i < callers.length; i++) await callers[(round + i) % callers.length]!.round(ROUND_MS);
}
const [base, fromConsul, again] = callers as [Caller, Caller, Caller];
console.log(`\n${ROUNDS} rounds of ${ROUND_MS} ms, ${CONCURRENCY} concurrent callers, medians:`);
console.log('variant   calls/s    caller CPU/call   vs static');
for (const caller of callers) {
  const perSecond = median(caller.perSecond);
  const cpu = median(caller.cpuPerCallUs);
  console.log(
    `${caller.name.padEnd(8)}  ${perSecond.toFixed(0).padStart(7)}    ${cpu.toFixed(2).padStart(7)} µs      throughput ${formatRatio(perSecond, median(base.perSecond))}, CPU ${formatRatio(cpu, median(base.cpuPerCallUs))}`,
  );
}
for (const other of [fromConsul, again]) {
  const paired = other.cpuPerCallUs.map((cpu, i) => cpu - base.cpuPerCallUs[i]!);
  console.log(`paired CPU/call delta (${other.name} - static) per round: median ${median(paired).toFixed(2)} µs, min ${Math.min(...paired).toFixed(2)}, max ${Math.max(...paired).toFixed(2)}`);
}
console.log(`KV requests the emulator answered during the run: ${consul.requests.filter((r) => r.path.startsWith('/v1/kv/')).length}`);
for (const caller of callers) await caller.stop();
await consul.close();
await backend.stop();
