/**
 * The meshlet demo. `npm run demo`: config from a watched file (file.ts).
 * `npm run demo -- --consul`: config from Consul KV and instances from Consul's health API,
 * on an in-process Consul emulator or the agent at CONSUL_HTTP_ADDR (consul.ts).
 * `npm run demo -- --canary`: a v2 subset takes 10% of calls, then a push moves it to 50% (canary.ts).
 * DEMO_CALLS sets the number of calls (default 3000).
 */
import { runFileDemo } from './file.ts';

const TOTAL_CALLS = Number(process.env.DEMO_CALLS ?? 3000);
const CONCURRENCY = 16;

const args = process.argv.slice(2);
const unknown = args.filter((arg) => arg !== '--consul' && arg !== '--canary');
if (unknown.length > 0 || args.length > 1) {
  const problem = unknown.length > 0 ? `unknown argument ${unknown.join(' ')}` : `one scenario at a time, got ${args.join(' ')}`;
  console.error(`demo: ${problem}; usage: npm run demo [-- --consul | --canary]`);
  process.exitCode = 2;
} else if (args.includes('--consul')) {
  // Loaded only for --consul: the plain demo never loads the Consul emulator.
  const { runConsulDemo } = await import('./consul.ts');
  await runConsulDemo(TOTAL_CALLS, CONCURRENCY);
} else if (args.includes('--canary')) {
  const { runCanaryDemo } = await import('./canary.ts');
  await runCanaryDemo(TOTAL_CALLS, CONCURRENCY);
} else {
  await runFileDemo(TOTAL_CALLS, CONCURRENCY);
}
