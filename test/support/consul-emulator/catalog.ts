/**
 * The catalog of the emulator's single node: services and checks, with the indexes Consul's
 * health and catalog reads block on (CATSTATE):
 * - a service name's own index, moved by any change to its instances or their checks (and by the
 *   node's checks, which every instance inherits);
 * - `service_last_extinction`, the index at which the last instance of some service went away:
 *   what a read of a service that does not exist returns, so such a watch wakes when it appears;
 * - the services table index for `/v1/catalog/services`.
 * Re-registering an identical service or setting a check to the status it has changes nothing.
 */
import { randomUUID } from 'node:crypto';
import { systemClock } from '../../../src/core/clock.ts';
import { type RaftLog, restoredIndex } from './raft-log.ts';

export type CheckStatus = 'passing' | 'warning' | 'critical' | 'maintenance';

export interface ServiceInstance {
  readonly id: string;
  readonly name: string;
  readonly tags: readonly string[];
  readonly address: string;
  readonly meta: Readonly<Record<string, string>> | null;
  readonly port: number;
  readonly weights: { readonly Passing: number; readonly Warning: number };
  readonly enableTagOverride: boolean;
  readonly taggedAddresses?: Readonly<Record<string, { address: string; port: number }>>;
  createIndex: number;
  modifyIndex: number;
}

export interface CheckRecord {
  readonly checkId: string;
  readonly name: string;
  status: CheckStatus;
  output: string;
  readonly notes: string;
  readonly serviceId: string;
  readonly serviceName: string;
  readonly type: string;
  readonly interval: string;
  readonly timeout: string;
  createIndex: number;
  modifyIndex: number;
  /** When the check last turned critical (clock ms), for the DeregisterCriticalServiceAfter reaper; never serialised. */
  criticalSince?: number;
}

export interface HealthEntry {
  readonly service: ServiceInstance;
  readonly checks: readonly CheckRecord[];
}

export const NODE_NAME = 'emulator';
const NODE_ADDRESS = '127.0.0.1';
const DATACENTER = 'dc1';

export class Catalog {
  readonly #raft: RaftLog;
  readonly nodeId = randomUUID();
  #node = { createIndex: 5, modifyIndex: 7 };
  readonly #services = new Map<string, ServiceInstance>();
  readonly #checks = new Map<string, CheckRecord>();
  #serviceIndex = new Map<string, number>();
  #servicesTableIndex = 8;
  #lastExtinction = 0;
  #maxIndex = 8;

  constructor(raft: RaftLog) {
    this.#raft = raft;
    // What a fresh server agent already holds: its node's serf check and the `consul` service.
    this.#checks.set('serfHealth', {
      checkId: 'serfHealth',
      name: 'Serf Health Status',
      status: 'passing',
      output: 'Agent alive and reachable',
      notes: '',
      serviceId: '',
      serviceName: '',
      type: '',
      interval: '',
      timeout: '',
      createIndex: 6,
      modifyIndex: 6,
    });
    const consul = instance({ id: 'consul', name: 'consul', port: 8300 }, 8);
    // (serfHealth above and `consul` here take indexes below BOOT_INDEX, as a fresh agent's bootstrap writes did.)
    this.#services.set('consul', consul);
    this.#serviceIndex.set('consul', 8);
  }

  get nodeAddress(): string {
    return NODE_ADDRESS;
  }

  get datacenter(): string {
    return DATACENTER;
  }

  get nodeIndexes(): { createIndex: number; modifyIndex: number } {
    return this.#node;
  }

  service(id: string): ServiceInstance | undefined {
    return this.#services.get(id);
  }

  check(checkId: string): CheckRecord | undefined {
    return this.#checks.get(checkId);
  }

  /** Every instance, sorted by ID. */
  allInstances(): HealthEntry[] {
    return [...this.#services.values()]
      .sort((a, b) => Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)))
      .map((service) => ({ service, checks: this.checksOf(service.id) }));
  }

  checksOf(serviceId: string): CheckRecord[] {
    return [...this.#checks.values()].filter((c) => c.serviceId === serviceId);
  }

  /**
   * Adds or replaces a service instance and the given checks; its other checks stay unless
   * `replaceExistingChecks` (Consul's `?replace-existing-checks`). An identical registration
   * changes nothing.
   */
  register(
    service: Omit<ServiceInstance, 'createIndex' | 'modifyIndex'>,
    checks: readonly Omit<CheckRecord, 'createIndex' | 'modifyIndex'>[],
    replaceExistingChecks = false,
  ): void {
    this.#raft.write((index) => {
      const existing = this.#services.get(service.id);
      const oldChecks = this.checksOf(service.id);
      const dropped = replaceExistingChecks ? oldChecks.filter((old) => !checks.some((c) => c.checkId === old.checkId)) : [];
      const sameService = existing !== undefined && sameInstance(existing, service);
      const sameChecks =
        dropped.length === 0 &&
        checks.every((c) => {
          const old = this.#checks.get(c.checkId);
          return old !== undefined && old.serviceId === service.id && sameCheck(old, c);
        });
      if (sameService && sameChecks) return { changed: false, result: undefined };
      if (!sameService) {
        this.#services.set(service.id, { ...service, createIndex: existing?.createIndex ?? index, modifyIndex: index });
        this.#servicesTableIndex = index;
      }
      for (const old of dropped) this.#checks.delete(old.checkId);
      for (const check of checks) {
        const old = this.#checks.get(check.checkId);
        if (old !== undefined && old.serviceId === service.id && sameCheck(old, check)) continue;
        const criticalSince = check.status !== 'critical' ? undefined : old?.status === 'critical' ? old.criticalSince : systemClock.now();
        this.#checks.set(check.checkId, { ...check, createIndex: old?.createIndex ?? index, modifyIndex: index, criticalSince });
      }
      this.#touchService(service.name, index);
      if (existing !== undefined && existing.name !== service.name) this.#touchService(existing.name, index);
      return { changed: true, result: undefined };
    });
  }

  /** Removes an instance and its checks; false when it was not registered. */
  deregister(id: string): boolean {
    return this.#raft.write((index) => {
      const existing = this.#services.get(id);
      if (existing === undefined) return { changed: false, result: false };
      this.#services.delete(id);
      for (const check of this.checksOf(id)) this.#checks.delete(check.checkId);
      this.#servicesTableIndex = index;
      this.#maxIndex = index;
      if ([...this.#services.values()].some((s) => s.name === existing.name)) {
        this.#serviceIndex.set(existing.name, index);
      } else {
        this.#serviceIndex.delete(existing.name);
        this.#lastExtinction = index;
      }
      return { changed: true, result: true };
    });
  }

  /** Sets a check's status (and output); false when the check does not exist. */
  setCheck(checkId: string, status: CheckStatus, output?: string): boolean {
    return this.#raft.write((index) => {
      const check = this.#checks.get(checkId);
      if (check === undefined) return { changed: false, result: false };
      // NOTE: like the agent's anti-entropy, only a status change reaches the catalog at once;
      // a new output alone rides along with the next status change.
      if (check.status === status) return { changed: false, result: true };
      check.status = status;
      check.criticalSince = status === 'critical' ? systemClock.now() : undefined;
      if (output !== undefined) check.output = output;
      check.modifyIndex = index;
      if (check.serviceId === '') {
        for (const name of new Set([...this.#services.values()].map((s) => s.name))) this.#touchService(name, index);
        this.#node = { ...this.#node, modifyIndex: index };
      } else {
        this.#touchService(check.serviceName, index);
      }
      return { changed: true, result: true };
    });
  }

  /** Instances of `name` carrying every tag in `tags` (case-insensitive), with node and service checks, and the index to return. */
  health(name: string, tags: readonly string[]): { entries: HealthEntry[]; index: number } {
    const wanted = tags.map((t) => t.toLowerCase());
    const entries = [...this.#services.values()]
      .filter((s) => s.name === name)
      .filter((s) => wanted.every((t) => s.tags.some((tag) => tag.toLowerCase() === t)))
      .sort((a, b) => Buffer.compare(Buffer.from(a.id), Buffer.from(b.id)))
      .map((service) => ({
        service,
        checks: [...this.#checks.values()]
          .filter((c) => c.serviceId === '' || c.serviceId === service.id)
          .sort((a, b) => Buffer.compare(Buffer.from(a.checkId), Buffer.from(b.checkId))),
      }));
    return { entries, index: this.serviceIndex(name) };
  }

  /** Index of a read of one service: its own, else the last extinction, else the catalog's highest. */
  serviceIndex(name: string): number {
    return this.#serviceIndex.get(name) ?? (this.#lastExtinction || this.#maxIndex);
  }

  /** `/v1/catalog/services`: every service name with the union of its instances' tags. */
  services(): { services: Record<string, string[]>; index: number } {
    const services: Record<string, string[]> = {};
    for (const s of [...this.#services.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
      const tags = services[s.name] ?? [];
      for (const tag of s.tags) if (!tags.includes(tag)) tags.push(tag);
      services[s.name] = tags;
    }
    return { services, index: this.#servicesTableIndex };
  }

  /** Snapshot restore: every index goes backwards. */
  restore(): void {
    for (const s of this.#services.values()) {
      s.createIndex = restoredIndex(s.createIndex);
      s.modifyIndex = restoredIndex(s.modifyIndex);
    }
    for (const c of this.#checks.values()) {
      c.createIndex = restoredIndex(c.createIndex);
      c.modifyIndex = restoredIndex(c.modifyIndex);
    }
    this.#serviceIndex = new Map([...this.#serviceIndex].map(([name, i]) => [name, restoredIndex(i)]));
    this.#servicesTableIndex = restoredIndex(this.#servicesTableIndex);
    this.#lastExtinction = restoredIndex(this.#lastExtinction);
    this.#maxIndex = restoredIndex(this.#maxIndex);
    this.#node = { createIndex: restoredIndex(this.#node.createIndex), modifyIndex: restoredIndex(this.#node.modifyIndex) };
  }

  #touchService(name: string, index: number): void {
    this.#serviceIndex.set(name, index);
    this.#maxIndex = index;
  }
}

/** A service instance with Consul's defaults for what a registration left out. */
export function instance(
  fields: Partial<Omit<ServiceInstance, 'createIndex' | 'modifyIndex'>> & { id: string; name: string },
  index: number,
): ServiceInstance {
  return {
    tags: [],
    address: '',
    meta: null,
    port: 0,
    weights: { Passing: 1, Warning: 1 },
    enableTagOverride: false,
    ...fields,
    createIndex: index,
    modifyIndex: index,
  };
}

function sameInstance(a: ServiceInstance, b: Omit<ServiceInstance, 'createIndex' | 'modifyIndex'>): boolean {
  return (
    a.name === b.name &&
    a.address === b.address &&
    a.port === b.port &&
    a.enableTagOverride === b.enableTagOverride &&
    JSON.stringify(a.tags) === JSON.stringify(b.tags) &&
    JSON.stringify(a.meta) === JSON.stringify(b.meta) &&
    JSON.stringify(a.weights) === JSON.stringify(b.weights) &&
    JSON.stringify(a.taggedAddresses) === JSON.stringify(b.taggedAddresses)
  );
}

function sameCheck(a: CheckRecord, b: Omit<CheckRecord, 'createIndex' | 'modifyIndex'>): boolean {
  return (
    a.name === b.name &&
    a.status === b.status &&
    a.output === b.output &&
    a.notes === b.notes &&
    a.serviceName === b.serviceName &&
    a.type === b.type &&
    a.interval === b.interval &&
    a.timeout === b.timeout
  );
}
