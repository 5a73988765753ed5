/**
 * The Consul scenario (`npm run demo -- --consul`): the file demo's traffic, with the config
 * in Consul KV (`<prefix>/services/catalog`, watched by `control: 'consul://…'`) and the
 * instances from Consul's health API (`discovery: { type: 'consul' }`). Each instance
 * registers itself with `mesh.register()`, as a real service process would, and the config
 * goes to KV as an operator sends it, with `meshlet push`. Mid-run a push turns hedging on and
 * a new instance registers; the demo prints
 * how long each took to reach the caller: the write to the 'config' event, the registration
 * to the 'endpoints' event and to the first call the new instance answered.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as meshlet } from '../../src/cli/run.ts';
import { serviceKey } from '../../src/control/consul-layout.ts';
import { createMesh, type Mesh, type MeshEventName, type MeshEvents } from '../../src/index.ts';
import { type BehaviourName, type DemoBackend, startDemoBackend } from './backends.ts';
import { type DemoConsul, openDemoConsul } from './consul-agent.ts';
import type { DemoObservability } from './observability.ts';
import { catalogPolicy, HEDGING_ON } from './policy.ts';
import { note, printTable } from './report.ts';
import { countMeshEvents, printMeshSummary } from './summary.ts';
import { runTraffic } from './traffic.ts';

/** An unchanged line in push's per-key diff: indented past the `+ ` / `- ` markers. */
const DIFF_CONTEXT = /^ {6}/;
/** A change that has not reached the caller by then is reported as not seen (the demo never waits longer). */
const EFFECT_TIMEOUT_MS = 10_000;

/** One instance of the catalog service: its server, and the mesh it registered itself through. */
interface Instance {
  readonly backend: DemoBackend;
  readonly mesh: Mesh;
}

export async function runConsulDemo(total: number, concurrency: number, observability: DemoObservability): Promise<void> {
  const consul = await openDemoConsul();
  const dir = await mkdtemp(join(tmpdir(), 'meshlet-demo-'));
  const instances: Instance[] = [];
  let storefront: Mesh | undefined;
  try {
    console.log(`meshlet demo (Consul): ${total} calls to 'catalog' (healthy, slow, flaky) at concurrency ${concurrency}`);
    console.log(`Consul: ${consul.label}`);
    console.log(`config: ${consul.controlUrl} (key ${serviceKey(consul.prefix, 'catalog')}; hedging pushed on at 1/3)`);
    console.log(`instances: Consul service '${consul.service}', passing checks only (a fourth registers at 1/2)\n`);

    for (const name of ['healthy', 'slow', 'flaky'] as const) instances.push(await startInstance(consul, name, name));
    const policy = (change: Record<string, unknown>) => catalogPolicy({ discovery: { type: 'consul', service: consul.service } }, change);
    await meshletPush(consul, dir, policy({}), (line) => console.log(`  ${line}`));
    console.log();

    storefront = await createMesh({ service: 'storefront', control: consul.controlUrl, consul: { url: consul.url } });
    const mesh = storefront;
    const counts = countMeshEvents(mesh);
    observability.attach(mesh);
    const effects: Promise<void>[] = [];
    let firstCallOfNew: ((at: number) => void) | undefined;

    const pushHedging = async (): Promise<void> => {
      const applied = whenEvent(mesh, 'config', (e) => e.changedServices.includes('catalog'));
      note('mid-run: an operator turns hedging on');
      const written = await meshletPush(consul, dir, policy(HEDGING_ON), (line) => note(`  ${line}`));
      effects.push(applied.then((at) => note(at === undefined ? '  config change: NOT applied' : `  config change: applied ${ms(at - written)} after the write ('config' event)`)));
    };
    const registerNew = async (): Promise<void> => {
      const backend = await startDemoBackend('fresh', 'healthy');
      const listed = whenEvent(mesh, 'endpoints', (e) => e.endpoints.some((id) => id.endsWith(backend.address)));
      const answered = new Promise<number | undefined>((resolve) => {
        firstCallOfNew = resolve;
        setTimeout(resolve, EFFECT_TIMEOUT_MS, undefined).unref();
      });
      const started = performance.now();
      instances.push(await startInstance(consul, 'fresh', 'healthy', backend));
      note(`mid-run: a fourth instance, 'fresh' (${backend.address}), registered itself through mesh.register() in ${ms(performance.now() - started)}`);
      const report = async (): Promise<void> => {
        const at = await listed;
        note(at === undefined ? '  new instance: NOT in the endpoint set' : `  new instance: in the endpoint set ${ms(at - started)} after registering ('endpoints' event)`);
        const first = await answered;
        note(first === undefined ? '  new instance: answered NO call' : `  new instance: answered its first call ${ms(first - started)} after registering`);
      };
      effects.push(report());
    };

    const samples = await runTraffic(mesh, {
      total,
      concurrency,
      milestones: [
        { at: total / 3, run: pushHedging },
        { at: total / 2, run: registerNew },
      ],
      onSample: (sample) => {
        if (sample.backend === 'fresh' && sample.ok) firstCallOfNew?.(performance.now());
      },
    });
    await Promise.all(effects);

    console.log('\nPer endpoint ("attempts": requests the instance received; "calls": logical calls it answered):\n');
    const backends = instances.map((i) => i.backend);
    printTable(samples, new Map(backends.map((b) => [b.name, b.received])));
    printMeshSummary(mesh, counts, backends, (source) => source);
    printConsulState(mesh);
    await observability.holdIfAsked();
  } finally {
    // The caller first, then each instance's mesh (close() deregisters it), then Consul.
    await storefront?.close();
    await Promise.all(instances.map(async ({ mesh, backend }) => {
      await mesh.close();
      await backend.close();
    }));
    await consul.close();
    await rm(dir, { recursive: true, force: true });
  }
}

/** Starts an instance's server (unless given) and registers it in Consul through its own mesh, with a TTL check meshlet keeps passing. */
async function startInstance(consul: DemoConsul, name: string, behaviour: BehaviourName, started?: DemoBackend): Promise<Instance> {
  const backend = started ?? (await startDemoBackend(name, behaviour));
  const mesh = await createMesh({ service: consul.service, consul: { url: consul.url } });
  try {
    await mesh.register({ name: consul.service, id: `${consul.service}-${name}`, address: '127.0.0.1', port: backend.port, tags: [name], check: { ttl: '10s' } });
  } catch (error) {
    // Not yet an Instance the demo closes at the end: close it here, or its server keeps the process alive.
    await mesh.close();
    await backend.close();
    throw error;
  }
  return { backend, mesh };
}

/**
 * What an operator runs: `meshlet push catalog.json --to <control URL> --service catalog`
 * (the CLI in-process; its diff printed through `print`). Resolves with when the write was
 * sent: push's last step, after it read KV and checked the result.
 */
async function meshletPush(consul: DemoConsul, dir: string, policy: Record<string, unknown>, print: (line: string) => void): Promise<number> {
  await writeFile(join(dir, 'catalog.json'), JSON.stringify({ services: { catalog: policy } }, null, 2));
  let output = '';
  const sink = { write: (text: string) => (output += text) };
  let writing = Number.NaN;
  const args = ['push', 'catalog.json', '--to', consul.controlUrl, '--service', 'catalog'];
  const stampWrite = async (): Promise<void> => {
    writing = performance.now();
  };
  const code = await meshlet(args, { stdout: sink, stderr: sink, env: process.env, cwd: dir }, { afterRead: stampWrite });
  print(`$ meshlet ${args.join(' ')}`);
  // The diff's unchanged lines (push shows the whole value as context) would bury the change: each run of them becomes one '…'.
  let skipping = false;
  for (const line of output.trimEnd().split('\n')) {
    if (DIFF_CONTEXT.test(line)) {
      if (!skipping) print('      …');
      skipping = true;
      continue;
    }
    skipping = false;
    print(line);
  }
  if (code !== 0) throw new Error(`meshlet push exited with ${code}`);
  return writing;
}

/** When the first `name` event that `matches` came (performance.now()), or undefined if none within EFFECT_TIMEOUT_MS. */
function whenEvent<K extends MeshEventName>(mesh: Mesh, name: K, matches: (event: MeshEvents[K]) => boolean): Promise<number | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), EFFECT_TIMEOUT_MS).unref();
    const dispose = mesh.on(name, (event) => {
      if (matches(event)) done(performance.now());
    });
    function done(at: number | undefined): void {
      clearTimeout(timer);
      dispose();
      resolve(at);
    }
  });
}

function printConsulState(mesh: Mesh): void {
  const state = mesh.state() as { config: { control?: unknown }; services: { catalog: { discovery?: unknown } } };
  console.log('\nFrom Consul:');
  console.log(`  control: ${JSON.stringify(state.config.control)}`);
  console.log(`  discovery: ${JSON.stringify(state.services.catalog.discovery)}`);
}

function ms(value: number): string {
  return `${value.toFixed(1)} ms`;
}
