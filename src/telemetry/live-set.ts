/**
 * A set of objects held weakly, for the process-wide registries telemetry keeps of live
 * meshes (their gauges: gauge-meshes.ts; their event emitters: telemetry-stack.ts).
 *
 * NOTE: why not a Set of WeakRefs. Those were pruned only when read (a metric collection, a
 * `refreshTelemetry()`): a process that makes and drops meshes (per-tenant meshes, tests)
 * without a meter grew them by one dead WeakRef per mesh, forever. Here an entry goes when its
 * mesh closes (`delete`, from closeTelemetry) or, if it is dropped without close(), when the
 * garbage collector takes it (a FinalizationRegistry): the set holds live meshes only.
 */
export class LiveSet<T extends object> {
  readonly #refs = new Set<WeakRef<T>>();
  readonly #refOf = new WeakMap<T, WeakRef<T>>();
  readonly #finalizer = new FinalizationRegistry<WeakRef<T>>((ref) => this.#refs.delete(ref));

  add(value: T): void {
    if (this.#refOf.has(value)) return;
    const ref = new WeakRef(value);
    this.#refs.add(ref);
    this.#refOf.set(value, ref);
    this.#finalizer.register(value, ref, ref);
  }

  delete(value: T): void {
    const ref = this.#refOf.get(value);
    if (ref === undefined) return;
    this.#refs.delete(ref);
    this.#refOf.delete(value);
    this.#finalizer.unregister(ref);
  }

  /** Entries held (for tests: what the registry costs). */
  get size(): number {
    return this.#refs.size;
  }

  *[Symbol.iterator](): Generator<T> {
    for (const ref of this.#refs) {
      const value = ref.deref();
      if (value === undefined) this.#refs.delete(ref);
      else yield value;
    }
  }
}
