/**
 * Leaf schemas with meshlet's own messages. zod's default messages ("Invalid input") say
 * neither what was expected nor what was found; every helper here states both, in the words
 * a config author uses, and never echoes a long value (see describe.ts).
 */
import { z } from 'zod';
import { describeValue, didYouMean } from './describe.ts';
import { parseDuration } from './duration.ts';
import { MAX_ARRAY_ITEMS } from './limits.ts';

/** NOTE: prefix of the message zod carries for unknown keys; issues.ts decodes it (see strictObject). */
export const KNOWN_KEYS_MARKER = '\u0000known-keys:';

function rangeText(kind: string, min: number, max: number, value: unknown): string {
  if (typeof value === 'number' && value < min) return `${kind} ≥ ${min}`;
  if (typeof value === 'number' && value > max) return `${kind} ≤ ${max}`;
  return max === Number.POSITIVE_INFINITY ? `${kind} ≥ ${min}` : `${kind} from ${min} to ${max}`;
}

export function integer(min: number, max = Number.POSITIVE_INFINITY) {
  return z.custom<number>((v) => Number.isSafeInteger(v) && (v as number) >= min && (v as number) <= max, {
    error: (issue) => `expected ${rangeText('an integer', min, max, issue.input)}, got ${describeValue(issue.input)}`,
  });
}

/** A finite number in [min, max], or in (min, max] when `aboveMin`. */
export function number(min: number, max: number, aboveMin = false) {
  const kind = 'a number';
  return z.custom<number>(
    (v) => typeof v === 'number' && Number.isFinite(v) && (aboveMin ? v > min : v >= min) && v <= max,
    {
      error: (issue) => {
        const v = issue.input;
        if (aboveMin && v === min) return `expected ${kind} > ${min}, got ${describeValue(v)}`;
        return `expected ${rangeText(kind, min, max, v)}, got ${describeValue(v)}`;
      },
    },
  );
}

/** A duration in ms; `positive` rejects 0 (a zero timeout is a mistake, not "off": use false). */
export function duration(positive = false) {
  const check = (v: unknown): string | undefined => {
    const result = parseDuration(v);
    if (!result.ok) return result.message;
    if (positive && result.ms === 0) return `expected a duration > 0 (use false to turn it off), got ${describeValue(v)}`;
    return undefined;
  };
  return z
    .custom<string | number>((v) => check(v) === undefined, { error: (issue) => check(issue.input) })
    .transform((v) => (parseDuration(v) as { ms: number }).ms);
}

/** A positive duration, or `false` for "none" (timeouts). */
export function durationOrOff() {
  const check = (v: unknown): string | undefined => {
    if (v === false) return undefined;
    const result = parseDuration(v);
    if (!result.ok) return `${result.message}, or false for none`;
    if (result.ms === 0) return 'expected a duration > 0, or false for none, got 0';
    return undefined;
  };
  return z
    .custom<string | number | false>((v) => check(v) === undefined, { error: (issue) => check(issue.input) })
    .transform((v) => (v === false ? false : (parseDuration(v) as { ms: number }).ms));
}

export function oneOf<const T extends string>(values: readonly T[], what: string) {
  const list = values.map((v) => `"${v}"`).join(', ');
  return z.custom<T>((v) => (values as readonly unknown[]).includes(v), {
    error: (issue) => `expected ${what}: one of ${list}, got ${describeValue(issue.input)}${didYouMean(issue.input, values)}`,
  });
}

export function text(what: string, pattern?: RegExp, hideValue = false) {
  return z.custom<string>((v) => typeof v === 'string' && v.length > 0 && (pattern === undefined || pattern.test(v)), {
    error: (issue) => `expected ${what}, got ${hideValue && typeof issue.input === 'string' ? 'another string (not shown: it may hold a secret)' : describeValue(issue.input)}`,
  });
}

export const bool = z.custom<boolean>((v) => typeof v === 'boolean', {
  error: (issue) => `expected true or false, got ${describeValue(issue.input)}`,
});

export function list<T extends z.ZodType>(item: T, max = MAX_ARRAY_ITEMS) {
  return z
    .array(item, { error: (issue) => `expected an array, got ${describeValue(issue.input)}` })
    .max(max, { error: (issue) => `expected at most ${max} items, got ${describeValue(issue.input)}` });
}

/** An object whose unknown keys are errors (a typo must not silently disable a policy). */
export function strictObject<S extends z.core.$ZodLooseShape>(shape: S) {
  const known = JSON.stringify(Object.keys(shape));
  return z.strictObject(shape, {
    error: (issue) => {
      if (issue.code === 'unrecognized_keys') return `${KNOWN_KEYS_MARKER}${known}`;
      return `expected an object, got ${describeValue(issue.input)}`;
    },
  });
}

/** A policy that may be `false` (off), `true` (on with defaults) or an object (merged). */
export function switchable<T extends z.ZodType>(object: T, allowTrue = true) {
  const flag = z.custom<boolean>((v) => v === false || (allowTrue && v === true));
  const forms = allowTrue ? 'true, false or an object' : 'false or an object';
  return z.union([flag, object], {
    error: (issue) => {
      const hint = issue.input === true ? ' (true has no defaults here: give the settings as an object)' : '';
      return `expected ${forms}, got ${describeValue(issue.input)}${hint}`;
    },
  });
}

/** A key that exists in the design but is not built yet: say so instead of ignoring it. */
export function notAvailable(message: string) {
  return z.custom<never>(() => false, { error: () => message });
}
