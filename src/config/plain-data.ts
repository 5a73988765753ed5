/**
 * Config may come from code, so before any schema sees it, it is copied into plain data:
 * null-prototype objects, arrays and scalars only. This is where hostile or accidental input
 * is stopped without ever throwing: cycles, getters or proxies that throw, class instances,
 * `__proto__` keys (prototype pollution), absurd nesting, sizes and strings. Each problem is
 * an issue at its path; the offending value is left out of the copy.
 */
import type { ConfigIssue } from '../core/errors.ts';
import { redactText } from '../core/redact.ts';
import { describeValue } from './describe.ts';
import { MAX_ARRAY_ITEMS, MAX_DEPTH, MAX_KEY_LENGTH, MAX_OBJECT_KEYS, MAX_STRING_LENGTH, MAX_VALUES } from './limits.ts';

/** Sentinel for "leave this value out of the copy". */
const OMIT = Symbol('omit');

export interface PlainDataResult {
  readonly data: unknown;
  readonly issues: ConfigIssue[];
  /** Paths whose value was left out: schema issues at or below them are noise. */
  readonly omittedPaths: string[];
}

export function toPlainData(input: unknown): PlainDataResult {
  const state = { issues: [] as ConfigIssue[], omittedPaths: [] as string[], values: 0, ancestors: new Set<object>() };
  const data = copy(input, [], state);
  return { data: data === OMIT ? undefined : data, issues: state.issues, omittedPaths: state.omittedPaths };
}

type State = { issues: ConfigIssue[]; omittedPaths: string[]; values: number; ancestors: Set<object> };

/** NOTE: keys are the author's text too (a service named after a URL): redacted like values. */
export function joinPath(path: readonly PropertyKey[]): string {
  return redactText(path.map(String).join('.'));
}

function reject(path: readonly PropertyKey[], message: string, state: State): typeof OMIT {
  const joined = joinPath(path);
  state.issues.push({ path: joined, message });
  state.omittedPaths.push(joined);
  return OMIT;
}

function copy(value: unknown, path: PropertyKey[], state: State): unknown {
  if (++state.values > MAX_VALUES) {
    if (state.values === MAX_VALUES + 1) reject(path, `the document holds more than ${MAX_VALUES} values`, state);
    return OMIT;
  }
  switch (typeof value) {
    case 'string':
      if (value.length <= MAX_STRING_LENGTH) return value;
      return reject(path, `expected a string of at most ${MAX_STRING_LENGTH} characters, got ${describeValue(value)}`, state);
    case 'number':
    case 'boolean':
      return value;
    case 'undefined':
      return OMIT;
    case 'object':
      if (value === null) return null;
      break;
    default:
      return reject(path, `expected JSON-like data (object, array, string, number, boolean, null), got ${describeValue(value)}`, state);
  }
  if (path.length >= MAX_DEPTH) return reject(path, `nested deeper than ${MAX_DEPTH} levels`, state);
  if (state.ancestors.has(value)) return reject(path, 'a cyclic reference (an object that contains itself)', state);
  state.ancestors.add(value);
  try {
    return Array.isArray(value) ? copyArray(value, path, state) : copyObject(value, path, state);
  } catch (error) {
    return reject(path, `could not be read (reading it threw ${errorName(error)}); pass plain data`, state);
  } finally {
    state.ancestors.delete(value);
  }
}

function copyArray(value: readonly unknown[], path: PropertyKey[], state: State): unknown {
  if (value.length > MAX_ARRAY_ITEMS) {
    return reject(path, `expected at most ${MAX_ARRAY_ITEMS} items, got ${describeValue(value)}`, state);
  }
  const result: unknown[] = [];
  for (let index = 0; index < value.length; index++) {
    const item = copy(value[index], [...path, index], state);
    result.push(item === OMIT ? undefined : item);
  }
  return result;
}

function copyObject(value: object, path: PropertyKey[], state: State): unknown {
  const prototype = Object.getPrototypeOf(value);
  if (prototype !== Object.prototype && prototype !== null) {
    const kind = Object.prototype.toString.call(value).slice(8, -1);
    return reject(path, `expected a plain object, got ${kind === 'Object' ? 'a class instance' : `a ${kind}`}`, state);
  }
  const keys = Object.keys(value);
  if (keys.length > MAX_OBJECT_KEYS) return reject(path, `expected at most ${MAX_OBJECT_KEYS} keys, got ${keys.length}`, state);
  const result: Record<string, unknown> = Object.create(null);
  for (const key of keys) {
    if (key === '__proto__') {
      reject([...path, key], 'the key "__proto__" is not allowed (it could alter object prototypes)', state);
      continue;
    }
    if (key.length > MAX_KEY_LENGTH) {
      reject([...path, `<a key of ${key.length} characters>`], `keys are at most ${MAX_KEY_LENGTH} characters`, state);
      continue;
    }
    let raw: unknown;
    try {
      raw = (value as Record<string, unknown>)[key];
    } catch (error) {
      reject([...path, key], `could not be read (its getter threw ${errorName(error)}); pass plain data`, state);
      continue;
    }
    const item = copy(raw, [...path, key], state);
    if (item !== OMIT) result[key] = item;
  }
  return result;
}

function errorName(error: unknown): string {
  // NOTE: only the name: a message could be huge or itself throw when read.
  try {
    return error instanceof Error ? error.name.slice(0, 40) : 'a non-error value';
  } catch {
    return 'an unreadable error';
  }
}
