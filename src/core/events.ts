/**
 * Typed events. `on()` returns a disposer; an event nobody listens to is never built
 * (callers check `hasListeners(name)` before computing a payload on a hot path).
 */
import type { Call } from './call-context.ts';
import type { ConfigIssue } from './errors.ts';

export interface MeshEvents {
  /** A new config snapshot is in force. */
  config: { version: number; source: string; changedServices: readonly string[] };
  /** A config snapshot was rejected; the previous one stays in force. */
  'config-rejected': { source: string; issues: readonly ConfigIssue[]; error: Error };
  /** The control store or discovery could not be read; last good state kept. */
  'control-error': { source: string; error: Error };
  /** Discovery changed a service's endpoints. */
  endpoints: { service: string; endpoints: readonly string[] };
  /** An attempt is about to be retried. `call`: the logical call (telemetry puts the event on its span). */
  retry: { service: string; attempt: number; reason: string; delayMs: number; call?: Call };
  /** A retry was wanted but the budget was empty. */
  'budget-exhausted': { service: string; call?: Call };
  /** A hedged attempt was started. */
  hedge: { service: string; attempt: number; call?: Call };
  /** An endpoint was ejected by outlier detection. */
  eject: { service: string; endpoint: string; until: number; reason: string };
  /** An ejected endpoint is back in rotation. */
  readmit: { service: string; endpoint: string };
  /** A circuit breaker changed state. */
  breaker: { service: string; state: 'closed' | 'open' | 'half-open' };
  /** A call was refused by a rate or concurrency limit. */
  shed: { service: string; reason: 'rate-limited' | 'concurrency-limit' };
  /** A fault was injected. */
  fault: { service: string; kind: 'abort' | 'delay' };
  /**
   * A route target's calls now go elsewhere: to a failover entry (its subset has no healthy
   * endpoint), back to the target itself, or nowhere (`servedBy` null: no endpoint at all).
   * Labels only (`payments/v2`), never a request's path.
   */
  failover: { service: string; target: string; servedBy: string | null };
}

export type MeshEventName = keyof MeshEvents;
export type Listener<K extends MeshEventName> = (event: MeshEvents[K]) => void;
export type Disposer = () => void;

export class MeshEventEmitter {
  #listeners = new Map<MeshEventName, Set<(event: never) => void>>();

  on<K extends MeshEventName>(name: K, listener: Listener<K>): Disposer {
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as (event: never) => void);
    return () => {
      set.delete(listener as (event: never) => void);
    };
  }

  hasListeners(name: MeshEventName): boolean {
    const set = this.#listeners.get(name);
    return set !== undefined && set.size > 0;
  }

  emit<K extends MeshEventName>(name: K, event: MeshEvents[K]): void {
    const set = this.#listeners.get(name);
    if (set === undefined) return;
    for (const listener of set) {
      try {
        (listener as Listener<K>)(event);
      } catch (error) {
        // NOTE: a throwing listener must not break the call that emitted the event.
        queueMicrotask(() => {
          throw error;
        });
      }
    }
  }

  /** Emits only when someone listens; `build` runs only then. */
  emitLazy<K extends MeshEventName>(name: K, build: () => MeshEvents[K]): void {
    if (this.hasListeners(name)) this.emit(name, build());
  }
}
