/**
 * The meshlet demo. `npm run demo`: config from a watched file (file.ts).
 * `npm run demo -- --consul`: config from Consul KV and instances from Consul's health API,
 * on an in-process Consul emulator or the agent at CONSUL_HTTP_ADDR (consul.ts).
 * `npm run demo -- --canary`: a v2 subset takes 10% of calls, then a push moves it to 50% (canary.ts).
 * Every scenario runs with the OpenTelemetry SDK and a Prometheus exporter and prints the live
 * dashboard's and the metrics' URLs (observability.ts); `--hold` keeps both up after the run.
 * DEMO_CALLS sets the number of calls (default 3000), DEMO_PORT the pages' port (default: any free one).
 */
import { startObservability } from './observability.ts';

const TOTAL_CALLS = Number(process.env.DEMO_CALLS ?? 3000);
const CONCURRENCY = 16;

const args = process.argv.slice(2);
const hold = args.includes('--hold');
const scenarios = args.filter((arg) => arg !== '--hold');
const unknown = scenarios.filter((arg) => arg !== '--consul' && arg !== '--canary');
if (unknown.length > 0 || scenarios.length > 1) {
  const problem = unknown.length > 0 ? `unknown argument ${unknown.join(' ')}` : `one scenario at a time, got ${scenarios.join(' ')}`;
  console.error(`demo: ${problem}; usage: npm run demo [-- --consul | --canary] [--hold]`);
  process.exitCode = 2;
} else {
  // Before any mesh: instruments made before the SDK is registered would stay no-ops.
  const observability = await startObservability(hold);
  try {
    if (scenarios.includes('--consul')) {
      // Loaded only for --consul: the plain demo never loads the Consul emulator.
      const { runConsulDemo } = await import('./consul.ts');
      await runConsulDemo(TOTAL_CALLS, CONCURRENCY, observability);
    } else if (scenarios.includes('--canary')) {
      const { runCanaryDemo } = await import('./canary.ts');
      await runCanaryDemo(TOTAL_CALLS, CONCURRENCY, observability);
    } else {
      const { runFileDemo } = await import('./file.ts');
      await runFileDemo(TOTAL_CALLS, CONCURRENCY, observability);
    }
  } finally {
    await observability.close();
  }
}
