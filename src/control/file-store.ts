/**
 * A JSON or YAML file as the control plane, watched. fs.watch on the directory (not the
 * file) survives editors that save by writing a new file and renaming it over the old one,
 * and the directories of the links that lead to it (watch-targets.ts) hear a Kubernetes
 * ConfigMap's `..data` swap; a slow poll through the Clock catches what fs.watch misses
 * (network file systems, some containers). Events are debounced so a save in several writes
 * is read once, with a maximum wait so a file rewritten without pause is still read every
 * few debounce periods, and the listener hears only real changes: the same text twice is one
 * snapshot. Neither the watchers nor the poll keep the process alive.
 */
import { type FSWatcher, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { type Clock, systemClock, type TimerHandle } from '../core/clock.ts';
import { isMeshError } from '../core/errors.ts';
import { storeAlreadyWatched } from '../core/mesh-errors.ts';
import { configTooLarge, configUnparsable, configUnreadable } from '../config/config-error.ts';
import { type ConfigFormat, parseConfigTextOffThread } from '../config/parse.ts';
import { MAX_CONFIG_TEXT_LENGTH } from '../config/limits.ts';
import type { ControlListener, ControlStore } from './control-store.ts';
import { type WatchTarget, watchTargets } from './watch-targets.ts';

export interface FileStoreOptions {
  readonly clock?: Clock;
  /** Quiet time after a change event before reading, ms. */
  readonly debounceMs?: number;
  /** Longest a read waits under a stream of change events, ms (default: 4 debounce periods). */
  readonly maxWaitMs?: number;
  /** Poll period, ms (the fallback when fs.watch misses an event). */
  readonly pollMs?: number;
  /** Use fs.watch (default true); off, only the poll sees changes. */
  readonly watchFs?: boolean;
}

export class FileControlStore implements ControlStore {
  readonly source: string;
  readonly #path: string;
  readonly #format: ConfigFormat;
  readonly #clock: Clock;
  readonly #debounceMs: number;
  readonly #maxWaitMs: number;
  readonly #pollMs: number;
  readonly #watchFs: boolean;
  #listener: ControlListener | undefined;
  /** One watcher per directory on the way to the file, with the entries that concern it. */
  readonly #watchers = new Map<string, { watcher: FSWatcher; names: ReadonlySet<string> }>();
  #debounce: TimerHandle | undefined;
  /** When the first change event not yet followed by a read arrived (clock ms). */
  #pendingSince: number | undefined;
  #poll: TimerHandle | undefined;
  /** What the listener last heard about: the file's text, or the error code that hid it. */
  #lastSeen: string | undefined;
  #checking: Promise<void> | undefined;
  #checkAgain = false;
  #closed = false;

  /** `path` must be absolute (see createControlStore). */
  constructor(path: string, format: ConfigFormat, options: FileStoreOptions = {}) {
    this.#path = path;
    this.#format = format;
    this.source = `file:${path}`;
    this.#clock = options.clock ?? systemClock;
    this.#debounceMs = options.debounceMs ?? 50;
    this.#maxWaitMs = options.maxWaitMs ?? 4 * this.#debounceMs;
    this.#pollMs = options.pollMs ?? 2000;
    this.#watchFs = options.watchFs ?? true;
  }

  async watch(listener: ControlListener): Promise<void> {
    if (this.#listener !== undefined) throw storeAlreadyWatched(this.source);
    this.#listener = listener;
    // The first read also sets up the watchers (see #check).
    await this.#check();
    if (this.#closed) return;
    this.#schedulePoll();
  }

  async close(): Promise<void> {
    this.#closed = true;
    for (const { watcher } of this.#watchers.values()) watcher.close();
    this.#watchers.clear();
    this.#debounce?.cancel();
    this.#poll?.cancel();
    await this.#checking;
  }

  /** Watches exactly the directories the file is reached through now; a swap may change them. */
  #updateWatchers(targets: readonly WatchTarget[]): void {
    if (this.#closed) return;
    const wanted = new Map(targets.map((target) => [target.dir, target.names]));
    for (const [dir, entry] of this.#watchers) {
      if (wanted.has(dir)) continue;
      entry.watcher.close();
      this.#watchers.delete(dir);
    }
    for (const [dir, names] of wanted) {
      const current = this.#watchers.get(dir);
      if (current !== undefined) {
        current.names = names;
        continue;
      }
      this.#startWatcher(dir, names);
    }
  }

  #startWatcher(dir: string, names: ReadonlySet<string>): void {
    let watcher: FSWatcher;
    try {
      // NOTE: persistent: false is an unref'd watcher: an idle mesh must not hold a script open.
      watcher = watch(dir, { persistent: false }, (_event, changed) => {
        const entry = this.#watchers.get(dir);
        if (entry !== undefined && (changed === null || entry.names.has(changed.toString()))) this.#onChangeEvent();
      });
    } catch {
      return; // the directory is missing or the platform refuses: the poll carries on alone
    }
    const entry = { watcher, names };
    this.#watchers.set(dir, entry);
    // The directory may vanish; the next read watches it again if it is back.
    watcher.on('error', () => {
      watcher.close();
      if (this.#watchers.get(dir) === entry) this.#watchers.delete(dir);
    });
  }

  /**
   * Debounce with a maximum wait (lodash's maxWait): each event pushes the read back by the
   * debounce period, but never past `maxWaitMs` after the first event still unread, so a
   * file rewritten faster than the debounce period is still read every few periods.
   */
  #onChangeEvent(): void {
    if (this.#closed) return;
    const now = this.#clock.now();
    this.#pendingSince ??= now;
    const wait = Math.max(0, Math.min(this.#debounceMs, this.#pendingSince + this.#maxWaitMs - now));
    this.#debounce?.cancel();
    this.#debounce = this.#clock.setTimer(() => {
      this.#pendingSince = undefined;
      void this.#check();
    }, wait);
  }

  #schedulePoll(): void {
    if (this.#closed) return;
    this.#poll = this.#clock.setTimer(() => {
      void this.#check().then(() => this.#schedulePoll());
    }, this.#pollMs);
  }

  /** One read at a time; a change during a read triggers one more read after it. */
  #check(): Promise<void> {
    if (this.#checking !== undefined) {
      this.#checkAgain = true;
      return this.#checking;
    }
    this.#checking = (async () => {
      do {
        this.#checkAgain = false;
        await this.#readOnce();
        if (this.#watchFs) this.#updateWatchers(await watchTargets(this.#path));
      } while (this.#checkAgain && !this.#closed);
    })().finally(() => {
      this.#checking = undefined;
    });
    return this.#checking;
  }

  async #readOnce(): Promise<void> {
    let text: string;
    try {
      const info = await stat(this.#path);
      if (info.size > MAX_CONFIG_TEXT_LENGTH * 4) {
        text = `\u0000too-large:${info.size}:${info.mtimeMs}`;
      } else {
        text = await readFile(this.#path, 'utf8');
      }
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'EIO';
      if (this.#closed || this.#lastSeen === `\u0000${code}`) return;
      this.#lastSeen = `\u0000${code}`;
      const reason = code === 'ENOENT' ? 'does not exist' : `cannot be read (${code})`;
      this.#listener?.unavailable(configUnreadable(this.source, reason, error));
      return;
    }
    if (this.#closed || text === this.#lastSeen) return;
    this.#lastSeen = text;
    await this.#deliver(text);
  }

  async #deliver(text: string): Promise<void> {
    const listener = this.#listener!;
    let document: unknown;
    try {
      if (text.startsWith('\u0000too-large:')) throw configTooLarge(this.source, MAX_CONFIG_TEXT_LENGTH);
      // A large YAML text is parsed on a worker thread: the loop keeps serving meanwhile.
      document = await parseConfigTextOffThread(text, this.#format, this.source);
    } catch (error) {
      if (this.#closed) return;
      listener.rejected(isMeshError(error) ? error : configUnparsable(this.source, error));
      return;
    }
    if (this.#closed) return;
    listener.snapshot(document);
  }
}
