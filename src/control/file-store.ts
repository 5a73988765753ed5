/**
 * A JSON or YAML file as the control plane, watched. fs.watch on the directory (not the
 * file) survives editors that save by writing a new file and renaming it over the old one;
 * a slow poll through the Clock catches what fs.watch misses (network file systems, some
 * containers). Events are debounced so a save in several writes is read once, and the
 * listener hears only real changes: the same text twice is one snapshot.
 */
import { type FSWatcher, watch } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { basename, dirname } from 'node:path';
import { type Clock, systemClock, type TimerHandle } from '../core/clock.ts';
import { isMeshError, MeshError } from '../core/errors.ts';
import { type ConfigFormat, parseConfigText } from '../config/parse.ts';
import { MAX_CONFIG_TEXT_LENGTH } from '../config/limits.ts';
import type { ControlListener, ControlStore } from './control-store.ts';

export interface FileStoreOptions {
  readonly clock?: Clock;
  /** Quiet time after a change event before reading, ms. */
  readonly debounceMs?: number;
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
  readonly #pollMs: number;
  readonly #watchFs: boolean;
  #listener: ControlListener | undefined;
  #watcher: FSWatcher | undefined;
  #debounce: TimerHandle | undefined;
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
    this.#pollMs = options.pollMs ?? 2000;
    this.#watchFs = options.watchFs ?? true;
  }

  async watch(listener: ControlListener): Promise<void> {
    if (this.#listener !== undefined) throw new MeshError('MESH_BAD_REQUEST', `${this.source} is already being watched; create one store per mesh`);
    this.#listener = listener;
    await this.#check();
    if (this.#closed) return;
    if (this.#watchFs) this.#startWatcher();
    this.#schedulePoll();
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#watcher?.close();
    this.#watcher = undefined;
    this.#debounce?.cancel();
    this.#poll?.cancel();
    await this.#checking;
  }

  #startWatcher(): void {
    const name = basename(this.#path);
    try {
      this.#watcher = watch(dirname(this.#path), { persistent: false }, (_event, changed) => {
        if (changed === null || changed.toString() === name) this.#onChangeEvent();
      });
      // The directory may vanish or the platform may refuse; polling carries on alone.
      this.#watcher.on('error', () => {
        this.#watcher?.close();
        this.#watcher = undefined;
      });
    } catch {
      this.#watcher = undefined;
    }
  }

  #onChangeEvent(): void {
    if (this.#closed) return;
    this.#debounce?.cancel();
    this.#debounce = this.#clock.setTimer(() => void this.#check(), this.#debounceMs);
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
      this.#listener?.unavailable(new MeshError('MESH_CONFIG_INVALID', `${this.source} ${reason}; the last good config stays in force until it can be read`, { cause: error }));
      return;
    }
    if (this.#closed || text === this.#lastSeen) return;
    this.#lastSeen = text;
    this.#deliver(text);
  }

  #deliver(text: string): void {
    const listener = this.#listener!;
    let document: unknown;
    try {
      if (text.startsWith('\u0000too-large:')) throw new MeshError('MESH_CONFIG_INVALID', `${this.source} is larger than ${MAX_CONFIG_TEXT_LENGTH} characters; the last good config stays in force`);
      document = parseConfigText(text, this.#format, this.source);
    } catch (error) {
      listener.rejected(isMeshError(error) ? error : new MeshError('MESH_CONFIG_INVALID', `${this.source} could not be parsed`, { cause: error }));
      return;
    }
    listener.snapshot(document);
  }
}
