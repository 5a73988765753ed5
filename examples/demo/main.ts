/**
 * The meshlet demo. `npm run demo`: config from a watched file (file.ts).
 * `npm run demo -- --consul`: config from Consul KV and instances from Consul's health API,
 * on an in-process Consul emulator or the agent at CONSUL_HTTP_ADDR (consul.ts).
 * DEMO_CALLS sets the number of calls (default 3000).
 */
import { runFileDemo } from './file.ts';

const TOTAL_CALLS = Number(process.env.DEMO_CALLS ?? 3000);
const CONCURRENCY = 16;

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--consul');
if (unknown.length > 0) {
  console.error(`demo: unknown argument ${unknown.join(' ')}; usage: npm run demo [-- --consul]`);
  process.exitCode = 2;
} else if (args.includes('--consul')) {
  // Loaded only for --consul: the plain demo never loads the Consul emulator.
  const { runConsulDemo } = await import('./consul.ts');
  await runConsulDemo(TOTAL_CALLS, CONCURRENCY);
} else {
  await runFileDemo(TOTAL_CALLS, CONCURRENCY);
}
