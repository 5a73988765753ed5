/**
 * A service's circuit-breaker state as its attempt spans carry it (`meshlet.breaker.state`),
 * kept from the mesh's `breaker` events instead of asked of the breaker per attempt.
 *
 * NOTE: why. The breaker layer's `state()` is the admin page's view: it reads opossum's
 * `stats`, which sums every bucket of the rolling window (and concatenates their latency
 * lists) on each read, ~4.5 KB of garbage per traced attempt in the in-memory bench. The
 * state changes only on a transition, and every transition is a `breaker` event
 * (resilience/breaker.ts), so one holder per (mesh, service) is updated there and read with
 * one property load per attempt. It is seeded from `state()` once when a stack is built
 * (createMesh, a config push), which also covers a breaker made anew by a rebuild.
 */
import type { MeshEventEmitter } from '../core/events.ts';
import type { Layer } from '../core/service.ts';
import { reportLater } from './forward.ts';

export interface BreakerView {
  /** `closed`, `open`, `half-open`; undefined while the breaker has no circuit yet. */
  state: string | undefined;
}

/** A service's view and the breaker it shows: the one of the service's newest stack. */
interface Held {
  readonly view: BreakerView;
  breaker: Layer;
}

const views = new WeakMap<MeshEventEmitter, Map<string, Held>>();

/** The view of `service`'s breaker in the mesh of `events`, seeded from `breaker` now. */
export function breakerView(events: MeshEventEmitter, service: string, breaker: Layer): BreakerView {
  let byService = views.get(events);
  if (byService === undefined) {
    const made = new Map<string, Held>();
    byService = made;
    views.set(events, made);
    // NOTE: the state is read from the newest breaker, not taken from the event: after a config
    // push the old stack's breaker (calls still in flight on it) keeps sending its transitions,
    // and the event does not say which breaker sent it. A transition is rare; one read each.
    events.on('breaker', (event) => {
      const held = made.get(event.service);
      if (held !== undefined) held.view.state = seedOf(held.breaker);
    });
  }
  let held = byService.get(service);
  if (held === undefined) {
    held = { view: { state: undefined }, breaker };
    byService.set(service, held);
  }
  held.breaker = breaker;
  held.view.state = seedOf(breaker);
  return held.view;
}

function seedOf(breaker: Layer): string | undefined {
  try {
    return (breaker.state?.() as { state?: string } | undefined)?.state;
  } catch (bug) {
    // NOTE: telemetry never fails a stack's build: the spans go without the state until its next transition.
    reportLater(bug);
    return undefined;
  }
}
