/**
 * Regular expressions in routes (path, header and query matches) written once and meaning the
 * same thing in meshlet and in Consul's Envoy, which matches with RE2 (ROUTERDOC). JS `RegExp`
 * is a backtracking engine with a different syntax, so a route regex is accepted only in the
 * subset where the two agree and where backtracking stays cheap:
 *
 * - The whole value must match (Envoy's `safe_regex` is a full match); `^` may open the pattern
 *   and `$` may close it, both are implied, and neither may appear anywhere else.
 * - Rejected because RE2 rejects them or reads them differently: lookarounds and every other
 *   `(?…)` group except `(?:…)` (named groups, inline flags), backreferences (`\1`, `\k<n>`),
 *   octal and `\0`, `\u`, `\x{…}`, `\p{…}`, RE2-only escapes (`\A`, `\z`, `\Q…\E`, `\C`), POSIX
 *   classes (`[[:alpha:]]`), a class opening with `]` (`[]a]`), a bare `{` that is not a
 *   quantifier, counts above 1000 (RE2's limit).
 * - Rewritten to RE2's meaning: `.` matches anything but `\n` (JS also stops at `\r`, U+2028,
 *   U+2029); `\s` is `[\t\n\f\r ]` (JS adds `\v` and Unicode spaces).
 * - Rejected because they can backtrack catastrophically (the cheaply detectable case): a
 *   repeated group that itself contains a repetition, e.g. `(a+)+`, `(\w*)*`, `(x{2,})+`.
 *   NOT detected: overlapping alternatives under a repetition (`(a|a)+`) and chains of adjacent
 *   repetitions (`\d+\d+\d+`, polynomial); the values matched are bounded (a path, a header),
 *   which bounds what those can cost.
 *
 * A match runs in place, with no substring: the compiled expression is sticky and stops at the
 * value's end or at a delimiter (`?` ends a path, `&` a query value), and every atom that could
 * consume a delimiter is guarded, which changes nothing because the value never contains one.
 */

export type SafeRegexResult = { readonly ok: true; readonly regex: RegExp } | { readonly ok: false; readonly message: string };

const MAX_COUNT = 1000;
const RE2_SPACE = '\\t\\n\\f\\r ';
const REJECTED_ESCAPES: Readonly<Record<string, string>> = {
  k: 'backreferences are not accepted (RE2 has none)',
  u: '\\u escapes are not accepted (RE2 writes \\x{…}); write the character itself',
  p: 'Unicode classes \\p{…} are not accepted (RE2 and JS name them differently)',
  P: 'Unicode classes \\P{…} are not accepted (RE2 and JS name them differently)',
};

interface Group {
  /** A repetition (max > 1) occurs somewhere inside. */
  repeats: boolean;
}

/**
 * Compiles `pattern` to a sticky full-match RegExp: set `lastIndex` to the value's start,
 * then `test` the whole string. `delimiters` end the value early (`'?'` for a path).
 */
export function compileSafeRegex(pattern: string, delimiters = ''): SafeRegexResult {
  return compile(pattern, delimiters, false);
}

/**
 * For bexpr's `matches`, which is RE2's unanchored search (Go `regexp.Match`): the same
 * accepted subset, no implied anchors, `^` and `$` kept as the text's start and end.
 */
export function compileSafeSearch(pattern: string): SafeRegexResult {
  return compile(pattern, '', true);
}

function compile(pattern: string, delimiters: string, search: boolean): SafeRegexResult {
  // NOTE: delimiters go into classes as they are, so they must be plain characters there (`?`, `&`).
  const stop = delimiters;
  // An atom that could consume a delimiter, wrapped so a repetition re-checks it each time.
  const guarded = (atom: string): string => (stop === '' ? atom : `(?:(?![${stop}])${atom})`);
  let out = '';
  const groups: Group[] = [{ repeats: false }];
  let lastAtom: 'none' | 'atom' | 'group' = 'none';
  let closedGroup: Group | undefined;
  let i = 0;
  const end = pattern.length;
  const fail = (message: string): SafeRegexResult => ({ ok: false, message: `${message} (at offset ${i} of ${JSON.stringify(pattern)})` });

  while (i < end) {
    const c = pattern[i]!;
    if (search && (c === '^' || c === '$')) {
      out += c;
      i++;
      lastAtom = 'none';
      continue;
    }
    if (c === '^') {
      if (i !== 0) return fail('"^" may only open the pattern: the whole value must match anyway');
      i++;
      continue;
    }
    if (c === '$') {
      if (i !== end - 1) return fail('"$" may only close the pattern: the whole value must match anyway');
      i++;
      continue;
    }
    if (c === '\\') {
      const escaped = escapeAt(pattern, i, false, stop);
      if (!escaped.ok) return fail(escaped.message);
      out += escaped.guard ? guarded(escaped.text) : escaped.text;
      i += escaped.length;
      lastAtom = escaped.consumes ? 'atom' : 'none';
      continue;
    }
    if (c === '[') {
      const cls = classAt(pattern, i, stop);
      if (!cls.ok) return fail(cls.message);
      out += cls.negated ? cls.text : guarded(cls.text);
      i += cls.length;
      lastAtom = 'atom';
      continue;
    }
    if (c === '(') {
      if (pattern[i + 1] === '?') {
        if (pattern[i + 2] !== ':') return fail('only (?:…) groups are accepted: lookarounds, named groups and inline flags are not (RE2 rejects or reads them differently)');
        out += '(?:';
        i += 3;
      } else {
        out += '(';
        i++;
      }
      groups.push({ repeats: false });
      lastAtom = 'none';
      continue;
    }
    if (c === ')') {
      if (groups.length === 1) return fail('unbalanced ")"');
      closedGroup = groups.pop()!;
      if (closedGroup.repeats) groups[groups.length - 1]!.repeats = true;
      out += ')';
      i++;
      lastAtom = 'group';
      continue;
    }
    if (c === '*' || c === '+' || c === '?' || c === '{') {
      const quantifier = quantifierAt(pattern, i);
      if (!quantifier.ok) return fail(quantifier.message);
      if (lastAtom === 'none') return fail(`"${pattern.slice(i, i + quantifier.length)}" repeats nothing`);
      if (quantifier.repeats) {
        if (lastAtom === 'group' && closedGroup?.repeats === true) {
          return fail('a repeated group that itself repeats (like (a+)+) can backtrack catastrophically; rewrite it without the nesting');
        }
        groups[groups.length - 1]!.repeats = true;
      }
      out += pattern.slice(i, i + quantifier.length);
      i += quantifier.length;
      lastAtom = 'none';
      continue;
    }
    if (c === '.') {
      out += `[^\\n${stop}]`;
      i++;
      lastAtom = 'atom';
      continue;
    }
    if (c === '|') {
      out += '|';
      i++;
      lastAtom = 'none';
      continue;
    }
    if (c === ']' || c === '}') return fail(`a literal "${c}" must be escaped`);
    out += c;
    i++;
    lastAtom = 'atom';
  }
  if (groups.length !== 1) return fail('unbalanced "("');
  const tail = stop === '' ? '$' : `(?=[${stop}]|$)`;
  try {
    return { ok: true, regex: search ? new RegExp(out, 'u') : new RegExp(`(?:${out})${tail}`, 'uy') };
  } catch (error) {
    return { ok: false, message: `${(error as Error).message.replace(/^Invalid regular expression: /, '')} in ${JSON.stringify(pattern)}` };
  }
}

/** Full match of `regex` (from compileSafeRegex) against `value` from `start`, without a substring. */
export function testFrom(regex: RegExp, value: string, start: number): boolean {
  regex.lastIndex = start;
  return regex.test(value);
}

/** `consumes`: matches a character; `guard`: that character could be a delimiter. */
type EscapeResult = { ok: true; text: string; length: number; consumes: boolean; guard: boolean } | { ok: false; message: string };

function escapeAt(pattern: string, i: number, inClass: boolean, stop: string): EscapeResult {
  const next = pattern[i + 1];
  if (next === undefined) return { ok: false, message: 'the pattern ends in a lone "\\"' };
  if (next >= '0' && next <= '9') return { ok: false, message: 'backreferences and octal escapes are not accepted (RE2 and JS read \\1 differently)' };
  const rejected = REJECTED_ESCAPES[next];
  if (rejected !== undefined) return { ok: false, message: rejected };
  if (next === 's') return { ok: true, text: inClass ? RE2_SPACE : `[${RE2_SPACE}]`, length: 2, consumes: true, guard: false };
  if (next === 'S' || next === 'D' || next === 'W') {
    if (inClass) return { ok: false, message: `\\${next} inside a class is not accepted; write the class out` };
    const negatedClass = { S: RE2_SPACE, D: '\\d', W: '\\w' }[next];
    return { ok: true, text: `[^${negatedClass}${stop}]`, length: 2, consumes: true, guard: false };
  }
  if (next === 'b' || next === 'B') {
    if (inClass) return { ok: false, message: `\\${next} inside a class is not accepted` };
    return { ok: true, text: `\\${next}`, length: 2, consumes: false, guard: false };
  }
  if (next === 'x') {
    if (!/^[0-9A-Fa-f]{2}$/.test(pattern.slice(i + 2, i + 4))) return { ok: false, message: '\\x takes exactly two hex digits here (\\x{…} is RE2-only)' };
    return { ok: true, text: pattern.slice(i, i + 4), length: 4, consumes: true, guard: true };
  }
  if ('dwnrtfv'.includes(next)) return { ok: true, text: `\\${next}`, length: 2, consumes: true, guard: false };
  if (/[A-Za-z]/.test(next)) return { ok: false, message: `\\${next} is not an escape both RE2 and JS accept` };
  // Escaped punctuation (JS in unicode mode accepts only syntax characters; new RegExp reports the rest).
  return { ok: true, text: `\\${next}`, length: 2, consumes: true, guard: stop.includes(next) };
}

type ClassResult = { ok: true; text: string; length: number; negated: boolean } | { ok: false; message: string };

function classAt(pattern: string, start: number, stop: string): ClassResult {
  let i = start + 1;
  const negated = pattern[i] === '^';
  if (negated) i++;
  if (pattern[i] === ']') return { ok: false, message: 'a class may not open with "]" (RE2 reads it as a literal, JS as an empty class); escape it' };
  let body = '';
  while (i < pattern.length && pattern[i] !== ']') {
    const c = pattern[i]!;
    if (c === '[' && pattern[i + 1] === ':') return { ok: false, message: 'POSIX classes like [[:alpha:]] are not accepted (JS has none)' };
    if (c === '\\') {
      const escaped = escapeAt(pattern, i, true, stop);
      if (!escaped.ok) return escaped;
      body += escaped.text;
      i += escaped.length;
      continue;
    }
    body += c;
    i++;
  }
  if (i >= pattern.length) return { ok: false, message: 'unterminated class "["' };
  // A negated class also refuses the delimiters; a positive one is guarded by the caller.
  const text = negated ? `[^${body}${stop}]` : `[${body}]`;
  return { ok: true, text, length: i + 1 - start, negated };
}

type QuantifierResult = { ok: true; length: number; repeats: boolean } | { ok: false; message: string };

function quantifierAt(pattern: string, i: number): QuantifierResult {
  const c = pattern[i]!;
  let length = 1;
  let repeats = c !== '?';
  if (c === '{') {
    const counted = /^\{(\d+)(,(\d*))?\}/.exec(pattern.slice(i));
    if (counted === null) return { ok: false, message: 'a literal "{" must be escaped (RE2 and JS disagree on a "{" that is not a count)' };
    const min = Number(counted[1]);
    const max = counted[2] === undefined ? min : counted[3] === '' ? Number.POSITIVE_INFINITY : Number(counted[3]);
    if (min > MAX_COUNT || (Number.isFinite(max) && max > MAX_COUNT)) return { ok: false, message: `repetition counts above ${MAX_COUNT} are not accepted (RE2's limit)` };
    if (max < min) return { ok: false, message: 'a repetition count range must not be reversed' };
    length = counted[0].length;
    repeats = max > 1;
  }
  if (pattern[i + length] === '?') length++; // lazy: both engines accept it
  if (pattern[i + length] === '+') return { ok: false, message: 'possessive repetitions are not accepted' };
  return { ok: true, length, repeats };
}
