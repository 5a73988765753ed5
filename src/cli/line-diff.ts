/**
 * A line diff of two small texts (one KV value before and after a push), in the unified
 * style operators read: `-` removed, `+` added, ` ` kept. Longest common subsequence over
 * lines: KV values are a few hundred lines at most, so the quadratic table is cheap.
 */

/** Lines beyond which the diff just shows old and new whole (the table would be large). */
const MAX_LINES = 2000;

export function lineDiff(before: string, after: string): string[] {
  const a = splitLines(before);
  const b = splitLines(after);
  if (a.length > MAX_LINES || b.length > MAX_LINES) return [...a.map((line) => `- ${line}`), ...b.map((line) => `+ ${line}`)];
  // common[i][j]: length of the LCS of a[i..] and b[j..].
  const common = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      common[i]![j] = a[i] === b[j] ? common[i + 1]![j + 1]! + 1 : Math.max(common[i + 1]![j]!, common[i]![j + 1]!);
    }
  }
  const out: string[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      out.push(`  ${a[i++]}`);
      j++;
    } else if (i < a.length && (j === b.length || common[i + 1]![j]! >= common[i]![j + 1]!)) {
      // Removals before additions, as unified diffs show a replaced line.
      out.push(`- ${a[i++]}`);
    } else {
      out.push(`+ ${b[j++]}`);
    }
  }
  return out;
}

/** Unchanged lines kept either side of a change; longer unchanged runs become one `…`. */
const CONTEXT_LINES = 3;

/**
 * A diff with its long unchanged runs folded (a 4-line change in a 30-line value shows ~10
 * lines, not 30): `context` unchanged lines stay next to each change, the rest of a run is
 * one `…` line. A diff without a change (a new or deleted key's whole value) is untouched.
 */
export function foldUnchanged(lines: readonly string[], context = CONTEXT_LINES): string[] {
  const changed = lines.map((line) => !line.startsWith('  '));
  const out: string[] = [];
  let folded = false;
  for (let i = 0; i < lines.length; i++) {
    if (changed[i] || nearChange(changed, i, context)) {
      out.push(lines[i]!);
      folded = false;
    } else if (!folded) {
      out.push('…');
      folded = true;
    }
  }
  return out;
}

function nearChange(changed: readonly boolean[], at: number, context: number): boolean {
  for (let i = Math.max(0, at - context); i <= Math.min(changed.length - 1, at + context); i++) if (changed[i]) return true;
  return false;
}

function splitLines(text: string): string[] {
  if (text === '') return [];
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  return lines;
}
