/**
 * Which services take their routing from Consul's config entries, and the watch of each
 * (routing/consul-entry-watch.ts over the process-wide entry lists, routing/consul-entry-lists.ts).
 * The precedence rule, one for every service: a service's own `routes` in meshlet's config win,
 * and its Consul entries are not read; a Consul-discovered service without `routes` is routed by
 * its service-router, service-splitter and service-resolver entries when it has any (none:
 * Consul's implicit chain, which routes nothing, and the service stays unrouted).
 * `discovery.configEntries: false` opts a service out. state() shows per service which it is
 * (`routing`). On by default because it costs three blocking queries per agent and datacenter
 * per process, not per service, and nothing per call for a service without entries.
 *
 * `sync` decides which services are watched (a watch stops when its service leaves the config,
 * gains its own routes or opts out); `begin` subscribes one, after its discovery has started, so
 * its first health read goes out first, and awaits the entries' first answer for at most the
 * start-up bound discovery also uses (STARTUP_WAIT_MS), not at all when discovery itself did not
 * answer (the agent is down or hung): entries read later apply through `changed`.
 *
 * A change read from Consul goes to `changed(service)`: the mesh rebuilds that service's
 * routing. A refused entry or a field meshlet cannot honour is a `config-rejected` event (its
 * issues at Consul's field paths); a failed read is a `control-error`.
 */
import type { Clock } from '../core/clock.ts';
import type { MeshEventEmitter } from '../core/events.ts';
import type { ServicePolicy } from '../config/policy.ts';
import { ConsulEntryWatch } from '../routing/consul-entry-watch.ts';
import type { RoutingModel } from '../routing/route-types.ts';
import { STARTUP_WAIT_MS } from '../discovery/consul-resolver.ts';
import type { ConsulAgent } from './consul-agent.ts';

interface Watched {
  readonly consulName: string;
  /** What the watch was made for (name, datacenter, passingOnly, connect timeout): another needs a new watch. */
  readonly key: string;
  readonly policy: ServicePolicy;
  watch: ConsulEntryWatch | undefined;
  begun: Promise<void> | undefined;
}

export class ConsulRouting {
  readonly #agent: ConsulAgent;
  readonly #clock: Clock;
  readonly #events: MeshEventEmitter;
  readonly #changed: (service: string) => void;
  /** By the service's name in meshlet's config. */
  readonly #watches = new Map<string, Watched>();
  /** The services of the config in force (sync's), for meshNameOf. */
  #policies: ReadonlyMap<string, ServicePolicy> = new Map();
  /** After close(), nothing subscribes again (an apply still running when the mesh closed). */
  #closed = false;

  constructor(agent: ConsulAgent, clock: Clock, events: MeshEventEmitter, changed: (service: string) => void) {
    this.#agent = agent;
    this.#clock = clock;
    this.#events = events;
    this.#changed = changed;
  }

  /** Decides which services take Consul's routing now; stops the watches of services that no longer do. */
  async sync(policies: ReadonlyMap<string, ServicePolicy>): Promise<void> {
    this.#policies = policies;
    const wanted = new Map<string, Watched>();
    for (const [name, policy] of policies) {
      const discovery = policy.discovery;
      if (discovery.type !== 'consul' || discovery.configEntries === false || policy.routes.length > 0 || !this.#agent.configured) continue;
      const key = JSON.stringify([discovery.service, discovery.datacenter ?? null, discovery.passingOnly, policy.pool.connectTimeout]);
      wanted.set(name, { consulName: discovery.service, key, policy, watch: undefined, begun: undefined });
    }
    const stopping: Promise<void>[] = [];
    for (const [name, watched] of this.#watches) {
      if (wanted.get(name)?.key === watched.key) continue;
      this.#watches.delete(name);
      if (watched.watch !== undefined) stopping.push(watched.watch.stop());
    }
    for (const [name, watched] of wanted) if (!this.#watches.has(name)) this.#watches.set(name, watched);
    // The services a model names may have joined or left the config.
    for (const { watch } of this.#watches.values()) watch?.refresh();
    await Promise.all(stopping);
  }

  /**
   * Subscribes the service's watch (once), and waits for its first model within the start-up
   * bound when `wait` (its discovery answered); a service not taking Consul's routing returns at once.
   */
  begin(name: string, wait: boolean): Promise<void> {
    const watched = this.#watches.get(name);
    if (watched === undefined || this.#closed) return Promise.resolve();
    if (watched.begun !== undefined) return wait ? watched.begun : Promise.resolve();
    const discovery = watched.policy.discovery as Extract<ServicePolicy['discovery'], { type: 'consul' }>;
    let started = false;
    const consulName = watched.consulName;
    watched.watch = new ConsulEntryWatch({
      service: consulName,
      agent: this.#agent.options(),
      datacenter: discovery.datacenter,
      passingOnly: discovery.passingOnly,
      poolConnectTimeout: watched.policy.pool.connectTimeout,
      configured: (consulService) => this.meshNameOf(consulService) !== undefined,
      onModel: () => {
        // A model read within the start-up bound is in the runtime built next.
        if (started && this.#watches.get(name) === watched) this.#changed(name);
      },
      onRejected: (error) => this.#events.emitLazy('config-rejected', () => ({ source: `consul-entries:${consulName}`, issues: error.issues ?? [], error })),
      onError: (error) => this.#events.emitLazy('control-error', () => ({ source: `consul-entries:${consulName}`, error })),
    });
    if (!wait) {
      // NOTE: no bound to wait out, so no call timer: a hung agent must not keep the process alive.
      started = true;
      watched.begun = Promise.resolve();
      return watched.begun;
    }
    watched.begun = this.#withinStartupBound(watched.watch.ready).then(() => {
      started = true;
    });
    return watched.begun;
  }

  /** `first`, or the start-up bound, whichever comes first (the watch goes on either way). */
  #withinStartupBound(first: Promise<void>): Promise<void> {
    return new Promise((resolve) => {
      const timer = this.#clock.setCallTimer(resolve, STARTUP_WAIT_MS);
      void first.then(() => {
        timer.cancel();
        resolve();
      });
    });
  }

  /** The service's model from Consul's entries; undefined when they route nothing or it does not read them. */
  model(service: string): RoutingModel | undefined {
    return this.#watches.get(service)?.watch?.model;
  }

  /** The name a Consul service has in meshlet's config (targets in entries name Consul services): the one discovering it, else its own. */
  meshNameOf(consulName: string): string | undefined {
    for (const [name, policy] of this.#policies) if (policy.discovery.type === 'consul' && policy.discovery.service === consulName) return name;
    return this.#policies.has(consulName) ? consulName : undefined;
  }

  state(service: string): Record<string, unknown> | undefined {
    return this.#watches.get(service)?.watch?.state();
  }

  async close(): Promise<void> {
    this.#closed = true;
    const watches = [...this.#watches.values()];
    this.#watches.clear();
    await Promise.all(watches.map(({ watch }) => watch?.stop()));
  }
}
