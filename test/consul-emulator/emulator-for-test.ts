/** The emulator for one test, closed after it, with a wire client on it: the set-up most emulator tests begin with. */
import type { TestContext } from 'node:test';
import { type ConsulEmulator, type ConsulEmulatorOptions, startConsulEmulator } from '../support/consul-emulator/index.ts';
import { consulHttp } from '../support/consul-emulator/wire-client.ts';

export async function emulatorForTest(t: Pick<TestContext, 'after'>, options: ConsulEmulatorOptions = {}): Promise<{ consul: ConsulEmulator; http: ReturnType<typeof consulHttp> }> {
  const consul = await startConsulEmulator(options);
  t.after(() => consul.close());
  return { consul, http: consulHttp(consul.url) };
}
