/**
 * For a describe() of Consul client tests: the watches, clients and agents (scripted agents or
 * the emulator) its tests start, closed in its after() in that order, all of a kind at once,
 * so no watch outlives the client it asks through, nor a client its agent.
 */
import { after } from 'node:test';

export interface ConsulTeardown {
  watch<W extends { stop(): Promise<void> }>(watch: W): W;
  client<C extends { close(): Promise<void> }>(client: C): C;
  agent<A extends { close(): Promise<void> }>(agent: A): A;
}

export function consulTeardown(): ConsulTeardown {
  const watches: { stop(): Promise<void> }[] = [];
  const clients: { close(): Promise<void> }[] = [];
  const agents: { close(): Promise<void> }[] = [];
  after(async () => {
    await Promise.all(watches.map((w) => w.stop()));
    await Promise.all(clients.map((c) => c.close()));
    await Promise.all(agents.map((a) => a.close()));
  });
  return {
    watch: (watch) => {
      watches.push(watch);
      return watch;
    },
    client: (client) => {
      clients.push(client);
      return client;
    },
    agent: (agent) => {
      agents.push(agent);
      return agent;
    },
  };
}
