/**
 * What `mesh.state()` says about config: the version in force and where it came from, the
 * last few applied versions, and the last rejection with every issue — so an operator who
 * pushed a bad config sees why it did not take, on every instance.
 */
import type { ConfigIssue } from '../core/errors.ts';

const HISTORY_LENGTH = 20;

interface Applied {
  version: number;
  source: string;
  at: string;
  changedServices: readonly string[];
}

interface Rejected {
  source: string;
  at: string;
  issues: readonly ConfigIssue[];
}

export class ConfigHistory {
  #version = 0;
  #applied: Applied[] = [];
  #lastRejected: Rejected | null = null;
  #rejections = 0;

  record(source: string, changedServices: readonly string[]): number {
    this.#version++;
    this.#applied.push({ version: this.#version, source, at: new Date().toISOString(), changedServices });
    if (this.#applied.length > HISTORY_LENGTH) this.#applied.shift();
    return this.#version;
  }

  reject(source: string, issues: readonly ConfigIssue[]): void {
    this.#rejections++;
    this.#lastRejected = { source, at: new Date().toISOString(), issues };
  }

  state(): Record<string, unknown> {
    const current = this.#applied.at(-1);
    return {
      version: this.#version,
      source: current?.source ?? null,
      appliedAt: current?.at ?? null,
      rejections: this.#rejections,
      lastRejected: this.#lastRejected,
      history: this.#applied,
    };
  }
}
