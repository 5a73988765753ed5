/**
 * Runs the agent's checks (CHKDOC): a TTL check not updated within its TTL turns critical; an
 * HTTP check is polled every Interval (2xx passing, 429 warning, anything else or no answer
 * critical); and the reaper deregisters a service whose check has been critical longer than
 * its DeregisterCriticalServiceAfter. Consul reaps every 30 s with a 1 m floor; both are
 * options here so a test need not wait that long. Timers are background timers (unref'd).
 */
import { systemClock, type TimerHandle } from '../../../src/core/clock.ts';
import type { Catalog, CheckStatus } from './catalog.ts';
import type { CheckSpec } from './registration.ts';
import { call } from './wire-client.ts';

export interface ReaperOptions {
  /** How often the reaper runs (Consul: 30 s). */
  readonly intervalMs?: number;
  /** The shortest DeregisterCriticalServiceAfter honoured (Consul: 1 m). */
  readonly minimumMs?: number;
}

export type TtlUpdate = 'updated' | 'unknown' | 'not-ttl';

export class CheckRunner {
  readonly #catalog: Catalog;
  readonly #reapIntervalMs: number;
  readonly #reapMinimumMs: number;
  readonly #specs = new Map<string, CheckSpec>();
  readonly #timers = new Map<string, TimerHandle>();
  #reaper: TimerHandle | undefined;
  #running = false;

  constructor(catalog: Catalog, reaper: ReaperOptions = {}) {
    this.#catalog = catalog;
    this.#reapIntervalMs = reaper.intervalMs ?? 30_000;
    this.#reapMinimumMs = reaper.minimumMs ?? 60_000;
  }

  /** Runs `specs` for `serviceId`; its other checks keep running unless `replaceExistingChecks`. */
  setService(serviceId: string, specs: readonly CheckSpec[], replaceExistingChecks: boolean): void {
    if (replaceExistingChecks) this.removeService(serviceId);
    for (const spec of specs) {
      this.#timers.get(spec.checkId)?.cancel();
      this.#specs.set(spec.checkId, spec);
      if (this.#running) this.#arm(spec, true);
    }
  }

  removeService(serviceId: string): void {
    for (const spec of [...this.#specs.values()]) {
      if (spec.serviceId !== serviceId) continue;
      this.#specs.delete(spec.checkId);
      this.#timers.get(spec.checkId)?.cancel();
      this.#timers.delete(spec.checkId);
    }
  }

  /** `/v1/agent/check/pass|warn|fail`: sets the status and restarts the TTL. */
  updateTtl(checkId: string, status: CheckStatus, output: string): TtlUpdate {
    if (this.#catalog.check(checkId) === undefined) return 'unknown';
    const spec = this.#specs.get(checkId);
    if (spec?.ttlMs === undefined) return 'not-ttl';
    this.#catalog.setCheck(checkId, status, output);
    if (this.#running) this.#arm(spec, false);
    return 'updated';
  }

  /** Starts (or, after an agent restart, restarts) every timer, TTLs counting from now. */
  resume(): void {
    if (this.#running) return;
    this.#running = true;
    for (const spec of this.#specs.values()) this.#arm(spec, true);
    this.#scheduleReap();
  }

  /** A stopped agent runs no checks. */
  pause(): void {
    this.#running = false;
    for (const timer of this.#timers.values()) timer.cancel();
    this.#timers.clear();
    this.#reaper?.cancel();
    this.#reaper = undefined;
  }

  #arm(spec: CheckSpec, first: boolean): void {
    this.#timers.get(spec.checkId)?.cancel();
    if (spec.ttlMs !== undefined) {
      const timer = systemClock.setTimer(() => {
        this.#timers.delete(spec.checkId);
        this.#catalog.setCheck(spec.checkId, 'critical', 'TTL expired');
      }, spec.ttlMs);
      this.#timers.set(spec.checkId, timer);
    } else if (spec.http !== undefined && spec.intervalMs !== undefined) {
      // The first probe runs at once (Consul staggers it within the interval) so tests see a status promptly.
      const timer = systemClock.setTimer(() => void this.#probe(spec), first ? 0 : spec.intervalMs);
      this.#timers.set(spec.checkId, timer);
    }
  }

  async #probe(spec: CheckSpec): Promise<void> {
    const http = spec.http;
    if (http === undefined) return;
    let status: CheckStatus;
    let output: string;
    try {
      // One connection per probe (no pool), so a probed test server can close without waiting on an idle socket.
      const url = new URL(http.url);
      const response = await call(url.origin, http.method, `${url.pathname}${url.search}`, {
        headers: http.headers,
        ...(http.body !== undefined && { body: http.body }),
        signal: AbortSignal.timeout(spec.timeoutMs),
      });
      status = response.status >= 200 && response.status < 300 ? 'passing' : response.status === 429 ? 'warning' : 'critical';
      output = `HTTP ${http.method} ${http.url}: ${response.status} ${response.statusText} Output: ${response.body.slice(0, 4096)}`;
    } catch (error) {
      status = 'critical';
      output = `Get "${http.url}": ${error instanceof Error ? error.message : String(error)}`;
    }
    // The check may have been removed, or the agent stopped, while the probe was in flight.
    if (!this.#running || this.#specs.get(spec.checkId) !== spec) return;
    this.#catalog.setCheck(spec.checkId, status, output);
    this.#arm(spec, false);
  }

  #scheduleReap(): void {
    this.#reaper = systemClock.setTimer(() => {
      this.#reap();
      if (this.#running) this.#scheduleReap();
    }, this.#reapIntervalMs);
  }

  #reap(): void {
    const now = systemClock.now();
    for (const spec of [...this.#specs.values()]) {
      if (spec.deregisterCriticalAfterMs === undefined) continue;
      const since = this.#catalog.check(spec.checkId)?.criticalSince;
      if (since === undefined) continue;
      if (now - since < Math.max(spec.deregisterCriticalAfterMs, this.#reapMinimumMs)) continue;
      this.removeService(spec.serviceId);
      this.#catalog.deregister(spec.serviceId);
    }
  }
}
