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

const views = new WeakMap<MeshEventEmitter, Map<string, BreakerView>>();

/** The view of `service`'s breaker in the mesh of `events`, seeded from `breaker` now. */
export function breakerView(events: MeshEventEmitter, service: string, breaker: Layer): BreakerView {
  let byService = views.get(events);
  if (byService === undefined) {
    const made = new Map<string, BreakerView>();
    byService = made;
    views.set(events, made);
    events.on('breaker', (event) => {
      const view = made.get(event.service);
      if (view !== undefined) view.state = event.state;
    });
  }
  let view = byService.get(service);
  if (view === undefined) {
    view = { state: undefined };
    byService.set(service, view);
  }
  view.state = seedOf(breaker);
  return view;
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
