/**
 * Which services take their routing from Consul's config entries, and the watch of each
 * (routing/consul-entry-watch.ts). The precedence rule, one for every service: a service's own
 * `routes` in meshlet's config win, and its Consul entries are not read; a service with Consul
 * discovery (`configEntries: true`) and no `routes` is routed by its service-router,
 * service-splitter and service-resolver entries, when they route anything (Consul's implicit
 * chain routes nothing: the service stays unrouted). state() shows per service which it is
 * (`routing`). Opt-in, because each such service costs three more blocking queries.
 *
 * A new watch's first reads are awaited before the service's runtime is built, for at most the
 * start-up bound Consul discovery also uses (STARTUP_WAIT_MS): a hung agent delays start-up no
 * longer than discovery does, and the entries read later apply through `changed`.
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

export class ConsulRouting {
  readonly #agent: ConsulAgent;
  readonly #clock: Clock;
  readonly #events: MeshEventEmitter;
  readonly #changed: (service: string) => void;
  /** By the service's name in meshlet's config. */
  readonly #watches = new Map<string, { consulName: string; watch: ConsulEntryWatch }>();

  constructor(agent: ConsulAgent, clock: Clock, events: MeshEventEmitter, changed: (service: string) => void) {
    this.#agent = agent;
    this.#clock = clock;
    this.#events = events;
    this.#changed = changed;
  }

  /** Starts the watches of services that now take Consul's routing, stops those of services that no longer do. */
  async sync(policies: ReadonlyMap<string, ServicePolicy>): Promise<void> {
    const wanted = new Map<string, string>();
    for (const [name, policy] of policies) {
      const discovery = policy.discovery;
      if (discovery.type === 'consul' && discovery.configEntries === true && policy.routes.length === 0 && this.#agent.configured) wanted.set(name, discovery.service);
    }
    const stopping: Promise<void>[] = [];
    for (const [name, { consulName, watch }] of this.#watches) {
      if (wanted.get(name) === consulName) continue;
      this.#watches.delete(name);
      stopping.push(watch.stop());
    }
    const starting: Promise<void>[] = [];
    for (const [name, consulName] of wanted) {
      if (this.#watches.has(name)) continue;
      const watch = new ConsulEntryWatch({
        service: consulName,
        client: () => this.#agent.client(),
        clock: this.#clock,
        onModel: () => {
          // A model read within the start-up bound is in the runtime built next (start, below).
          if (started) this.#changed(name);
        },
        onRejected: (error) => this.#events.emitLazy('config-rejected', () => ({ source: `consul-entries:${consulName}`, issues: error.issues ?? [], error })),
        onError: (error) => this.#events.emitLazy('control-error', () => ({ source: `consul-entries:${consulName}`, error })),
      });
      let started = false;
      this.#watches.set(name, { consulName, watch });
      starting.push(
        this.#withinStartupBound(watch.start()).then(() => {
          started = true;
        }),
      );
    }
    await Promise.all([...stopping, ...starting]);
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
    return this.#watches.get(service)?.watch.model;
  }

  /** The name a Consul service has in meshlet's config (targets in entries name Consul services). */
  meshNameOf(consulName: string): string | undefined {
    for (const [name, { consulName: watched }] of this.#watches) if (watched === consulName) return name;
    return undefined;
  }

  state(service: string): Record<string, unknown> | undefined {
    return this.#watches.get(service)?.watch.state();
  }

  async close(): Promise<void> {
    const watches = [...this.#watches.values()];
    this.#watches.clear();
    await Promise.all(watches.map(({ watch }) => watch.stop()));
  }
}
