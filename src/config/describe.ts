/**
 * How a config error talks about the value it rejects: short values are quoted so the user
 * sees their typo, long ones are described by size so a 10 MB string never ends up in a log
 * line, a near-miss gets a "did you mean" so `retyr` points at `retry`, and credentials in a
 * quoted value (`http://user:PASSWORD@host:1`) are redacted: an error message ends up in logs.
 */
import { redactText } from '../core/redact.ts';
import { MAX_ECHOED_LENGTH } from './limits.ts';

export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return value.length <= MAX_ECHOED_LENGTH ? JSON.stringify(redactText(value)) : `a string of ${value.length} characters`;
    case 'number':
      return String(value);
    case 'boolean':
      return String(value);
    case 'bigint':
      return 'a bigint';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
  }
  if (Array.isArray(value)) return `an array of ${value.length} items`;
  return 'an object';
}

/** The closest candidate within a small edit distance, or undefined. */
export function closestMatch(input: string, candidates: readonly string[]): string | undefined {
  if (input.length > MAX_ECHOED_LENGTH) return undefined;
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(input.length / 3)) + 1;
  for (const candidate of candidates) {
    const distance = editDistance(input.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return best;
}

export function didYouMean(input: unknown, candidates: readonly string[]): string {
  if (typeof input !== 'string') return '';
  const match = closestMatch(input, candidates);
  return match === undefined ? '' : ` (did you mean "${match}"?)`;
}

/** Damerau-style distance (a swap of two neighbours counts once: `retyr` is 1 from `retry`). */
function editDistance(a: string, b: string): number {
  const rows: number[][] = [];
  for (let i = 0; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      if (i === 0) {
        row.push(j);
        continue;
      }
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let d = Math.min(rows[i - 1]![j]! + 1, row[j - 1]! + 1, rows[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, rows[i - 2]![j - 2]! + 1);
      row.push(d);
    }
    rows.push(row);
  }
  return rows[a.length]![b.length]!;
}
