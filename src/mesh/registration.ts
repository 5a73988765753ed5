/**
 * `mesh.register()`: this process as an instance in the local Consul agent, kept there while
 * it lives and taken out first when the mesh closes.
 *
 * With a TTL check (the default) meshlet is the heartbeat: every ttl/3 it tells the agent
 * pass or fail, as the optional `healthy()` says, so an instance that hangs or dies stops
 * being chosen within one TTL. Why the heartbeat also re-registers: an agent restarted
 * without its state (a new node, a wiped data dir) answers the next update with 404
 * "Unknown check ID", and the instance would stay invisible for good; registering again
 * brings it back within one heartbeat. While the agent is unreachable the heartbeat keeps
 * trying on the same period and `state()` says so. With an HTTP check Consul calls the
 * process itself; meshlet only registers (retrying until the agent takes it) and deregisters.
 *
 * NOTE: heartbeats run on background timers (unref'd), and their requests are background
 * requests (a hung agent's timeout does not hold the process either): a registered process
 * still exits when its work is done. Only the first registration and close()'s
 * deregistration are awaited, and the mesh bounds the latter.
 */
import type { ConsulClient } from '../consul/client.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import { isMeshError } from '../core/errors.ts';
import { invalidArgument } from '../core/mesh-errors.ts';
import { redactText } from '../core/redact.ts';
import { planRegistration, type RegisterOptions, type RegistrationPlan } from './registration-options.ts';

export type { HttpCheckOptions, RegisterOptions, TtlCheckOptions } from './registration-options.ts';

/** What `mesh.register()` resolves to. */
export interface RegisteredService {
  readonly id: string;
  readonly name: string;
  /** Stops the heartbeat and removes the instance from the agent (close() does this for every registration). */
  deregister(): Promise<void>;
}

/**
 * `registering`: the first attempt is under way; `passing` / `failing`: the agent holds it and
 * the last heartbeat said so (`registered` for an HTTP check, whose status is Consul's);
 * `unreachable`: the last attempt failed (see lastError) and meshlet keeps trying;
 * `deregistered`: taken out (or close() gave up on the agent: lastError says).
 */
export type RegistrationStatus = 'registering' | 'passing' | 'failing' | 'registered' | 'unreachable' | 'deregistered';

export interface RegistrationState {
  readonly id: string;
  readonly name: string;
  readonly check: string;
  readonly status: RegistrationStatus;
  readonly lastError: string | null;
}

/** A heartbeat's requests: nobody awaits them. */
const BACKGROUND = { background: true } as const;

/** Retry period for an HTTP-check registration the agent has not taken yet. */
const HTTP_CHECK_RETRY_MS = 5000;

/** Every registration of one mesh. */
export class Registrations {
  readonly #client: () => ConsulClient;
  readonly #clock: Clock;
  readonly #active = new Map<string, Registration>();

  /** `client` is asked on first use: a mesh that never registers never opens a Consul client for it. */
  constructor(client: () => ConsulClient, clock: Clock) {
    this.#client = client;
    this.#clock = clock;
  }

  async register(options: RegisterOptions): Promise<RegisteredService> {
    const plan = planRegistration(options);
    if (this.#active.has(plan.id)) {
      throw invalidArgument('mesh.register(options)', `id ${JSON.stringify(plan.id)} is already registered by this mesh; give each instance its own id`);
    }
    const client = this.#client();
    const registration = new Registration(plan, client, this.#clock);
    this.#active.set(plan.id, registration);
    try {
      await registration.start();
    } catch (error) {
      this.#active.delete(plan.id);
      throw error;
    }
    return {
      id: plan.id,
      name: plan.name,
      deregister: async () => {
        if (this.#active.get(plan.id) !== registration) return;
        this.#active.delete(plan.id);
        await registration.deregister(true);
      },
    };
  }

  /** True while some instance is registered (or being registered) by this mesh. */
  get any(): boolean {
    return this.#active.size > 0;
  }

  state(): RegistrationState[] {
    return [...this.#active.values()].map((registration) => registration.state());
  }

  /** Deregisters every instance (the mesh bounds how long it waits); never rejects. */
  async close(): Promise<void> {
    const all = [...this.#active.values()];
    await Promise.all(all.map((registration) => registration.deregister(false)));
  }
}

class Registration {
  readonly #plan: RegistrationPlan;
  readonly #client: ConsulClient;
  readonly #clock: Clock;
  #status: RegistrationStatus = 'registering';
  #lastError: string | null = null;
  /** Whether the agent is believed to hold the instance. */
  #registered = false;
  #timer: TimerHandle | undefined;
  /** The round in progress (the first registration, a heartbeat, a retry). */
  #round: Promise<void> = Promise.resolve();
  #stopped = false;

  constructor(plan: RegistrationPlan, client: ConsulClient, clock: Clock) {
    this.#plan = plan;
    this.#client = client;
    this.#clock = clock;
  }

  /** The first registration. Rejects only when the agent refuses it (a bad token, a definition it rejects); an unreachable agent is retried. */
  async start(): Promise<void> {
    const first = this.#register();
    this.#round = first.then(
      () => undefined,
      () => undefined,
    );
    try {
      await first;
    } catch (error) {
      if (isPermanent(error)) {
        this.#stopped = true;
        throw error;
      }
      this.#failed(error);
    }
    this.#schedule();
  }

  state(): RegistrationState {
    return { id: this.#plan.id, name: this.#plan.name, check: this.#plan.checkDescription, status: this.#status, lastError: this.#lastError };
  }

  /** Stops the heartbeat, waits for the round in flight, then takes the instance out. `strict`: a failure rejects (else it is only reported in state). */
  async deregister(strict: boolean): Promise<void> {
    this.#stopped = true;
    this.#timer?.cancel();
    await this.#round;
    try {
      await this.#client.deregisterService(this.#plan.id);
      this.#status = 'deregistered';
      this.#lastError = null;
    } catch (error) {
      // 404: the agent does not hold it (it never took it, or forgot it): out already.
      if (isMeshError(error) && error.status === 404) {
        this.#status = 'deregistered';
        return;
      }
      this.#lastError = `deregistration failed (Consul removes the instance once its check goes critical${this.#plan.heartbeatMs === undefined ? '' : ', within one TTL'}): ${message(error)}`;
      if (strict) throw error;
    }
  }

  #schedule(): void {
    if (this.#stopped) return;
    const period = this.#plan.heartbeatMs ?? (this.#registered ? undefined : HTTP_CHECK_RETRY_MS);
    if (period === undefined) return; // an HTTP check the agent holds: Consul runs it
    this.#timer = this.#clock.setTimer(() => {
      this.#round = this.#heartbeat().finally(() => this.#schedule());
    }, period);
  }

  /** One round: a pass or fail for a TTL check, or registering again when the agent lacks the instance. */
  async #heartbeat(): Promise<void> {
    if (this.#stopped) return;
    try {
      if (!this.#registered || this.#plan.heartbeatMs === undefined) {
        await this.#register(undefined, BACKGROUND);
        return;
      }
      const verdict = await this.#verdict();
      if (this.#stopped) return;
      try {
        await this.#client.updateTtlCheck(this.#plan.checkId, verdict.healthy ? 'pass' : 'fail', verdict.note, BACKGROUND);
      } catch (error) {
        if (!(isMeshError(error) && error.status === 404)) throw error;
        // The agent forgot the instance (restarted without its state): register it again.
        this.#registered = false;
        await this.#register(verdict.healthy, BACKGROUND);
        return;
      }
      this.#status = verdict.healthy ? 'passing' : 'failing';
      this.#lastError = null;
    } catch (error) {
      this.#failed(error);
    }
  }

  async #register(known?: boolean, request: { background?: boolean } = {}): Promise<void> {
    const healthy = known ?? (this.#plan.healthy === undefined ? true : (await this.#verdict()).healthy);
    if (this.#stopped) return;
    await this.#client.registerService(this.#plan.definition(healthy ? 'passing' : 'critical'), request);
    this.#registered = true;
    this.#status = this.#plan.heartbeatMs === undefined ? 'registered' : healthy ? 'passing' : 'failing';
    this.#lastError = null;
  }

  /** `healthy()`'s answer; a throw, a rejection or no answer within one heartbeat is a fail with a note saying which. */
  async #verdict(): Promise<{ healthy: boolean; note: string }> {
    const healthy = this.#plan.healthy;
    if (healthy === undefined) return { healthy: true, note: 'meshlet: process running' };
    const limit = this.#plan.heartbeatMs ?? HTTP_CHECK_RETRY_MS;
    let timer: TimerHandle | undefined;
    const late = new Promise<'late'>((resolve) => {
      timer = this.#clock.setTimer(() => resolve('late'), limit);
    });
    try {
      const answer = await Promise.race([Promise.resolve().then(healthy), late]);
      if (answer === 'late') return { healthy: false, note: `meshlet: healthy() did not answer within ${limit} ms` };
      return answer === true ? { healthy: true, note: 'meshlet: healthy() returned true' } : { healthy: false, note: `meshlet: healthy() returned ${String(answer)}` };
    } catch (error) {
      return { healthy: false, note: `meshlet: healthy() threw: ${message(error)}` };
    } finally {
      timer?.cancel();
    }
  }

  #failed(error: unknown): void {
    this.#status = 'unreachable';
    this.#lastError = `${message(error)}; meshlet retries every ${this.#plan.heartbeatMs ?? HTTP_CHECK_RETRY_MS} ms`;
  }
}

/** A refusal retrying cannot fix: the agent answered 4xx (not 429) to the registration itself. */
function isPermanent(error: unknown): boolean {
  if (!isMeshError(error)) return true; // a bug, not an outage
  if (error.code === 'MESH_CLOSED') return true;
  const status = error.status;
  return status !== undefined && status >= 400 && status < 500 && status !== 429;
}

function message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return redactText(text).slice(0, 500);
}
