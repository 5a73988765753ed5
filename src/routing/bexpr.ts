/**
 * Consul's filter language (hashicorp/go-bexpr, FILTDOC), the part meshlet needs: resolver
 * subsets (`Service.Meta.version == v1`) and, later, the emulator's `?filter=`. Compiled once
 * into a predicate over a health-entry-shaped object; the selector types (bexpr-fields.ts) are
 * checked and every value coerced at compile time, so evaluation cannot fail.
 *
 * Grammar (go-bexpr's grammar.peg): `or` binds loosest, then `and`, then `not`; parentheses
 * group. Matches: `Sel == V`, `Sel != V`, `Sel is empty`, `Sel is not empty`, `V in Sel`,
 * `V not in Sel`, `Sel contains V`, `Sel not contains V`, `Sel matches V`, `Sel not matches V`.
 * A selector is `Ident(.Ident | .digits | ["key"])*` with Ident `[a-zA-Z][a-zA-Z0-9_/]*`; a
 * value is a `"quoted"` or `` `raw` `` string, a number, or a bare word in selector syntax.
 *
 * Semantics, as go-bexpr evaluates them: `==` compares as the field's type (a string exactly, an
 * int or bool after parsing the value); `in`/`contains` test list membership, map keys, or a
 * substring of a string; `is empty` is length 0; `matches` is an unanchored RE2 search (the
 * accepted subset of safe-regex.ts). Choices where bexpr's behaviour is version-dependent: a
 * missing map key reads as "" (so `Service.Meta.version == v1` is false, not an error, for an
 * instance without that key); a selector through a list of objects (`Checks.Status`) holds when
 * any element satisfies the condition, negated operators included (`Checks.Status != passing`:
 * some check is not passing).
 */
import { type FieldType, HEALTH_ENTRY_FIELDS } from './bexpr-fields.ts';
import { compileSafeSearch } from './safe-regex.ts';

export type BexprPredicate = (datum: unknown) => boolean;

export type BexprResult =
  | { readonly ok: true; readonly predicate: BexprPredicate; readonly selectors: readonly string[] }
  | { readonly ok: false; readonly offset: number; readonly message: string };

type Operator = '==' | '!=' | 'is empty' | 'is not empty' | 'in' | 'not in' | 'matches' | 'not matches';
const NEGATED: Partial<Record<Operator, Operator>> = { '!=': '==', 'is not empty': 'is empty', 'not in': 'in', 'not matches': 'matches' };
const IDENT = /[a-zA-Z][a-zA-Z0-9_/]*/y;
const NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?=[ \t\r\n)]|$)/y;
const SPACE = /[ \t\r\n]*/y;
const GO_TRUE = new Set(['1', 't', 'T', 'TRUE', 'true', 'True']);
const GO_FALSE = new Set(['0', 'f', 'F', 'FALSE', 'false', 'False']);

class SyntaxFailure {
  readonly offset: number;
  readonly message: string;

  constructor(offset: number, message: string) {
    this.offset = offset;
    this.message = message;
  }
}

interface Selector {
  readonly path: readonly string[];
  readonly offset: number;
}

/** Compiles `text` against `fields` (default: a Consul health entry). */
export function compileBexpr(text: string, fields: FieldType = HEALTH_ENTRY_FIELDS): BexprResult {
  const selectors: string[] = [];
  const parser = new Parser(text, fields, selectors);
  try {
    const predicate = parser.parse();
    return { ok: true, predicate, selectors };
  } catch (error) {
    if (error instanceof SyntaxFailure) return { ok: false, offset: error.offset, message: `at offset ${error.offset}: ${error.message}` };
    throw error;
  }
}

class Parser {
  #at = 0;
  readonly #text: string;
  readonly #fields: FieldType;
  readonly #selectors: string[];

  constructor(text: string, fields: FieldType, selectors: string[]) {
    this.#text = text;
    this.#fields = fields;
    this.#selectors = selectors;
  }

  parse(): BexprPredicate {
    this.#space();
    const predicate = this.#or();
    this.#space();
    if (this.#at < this.#text.length) this.#fail(`unexpected ${JSON.stringify(this.#text.slice(this.#at, this.#at + 10))}; expected "and", "or" or the end`);
    return predicate;
  }

  #or(): BexprPredicate {
    const left = this.#and();
    if (!this.#keyword('or')) return left;
    const right = this.#or();
    return (d) => left(d) || right(d);
  }

  #and(): BexprPredicate {
    const left = this.#not();
    if (!this.#keyword('and')) return left;
    const right = this.#and();
    return (d) => left(d) && right(d);
  }

  #not(): BexprPredicate {
    if (!this.#keyword('not')) return this.#group();
    const inner = this.#not();
    return (d) => !inner(d);
  }

  #group(): BexprPredicate {
    this.#space();
    if (this.#text[this.#at] !== '(') return this.#match();
    this.#at++;
    const inner = this.#or();
    this.#space();
    if (this.#text[this.#at] !== ')') this.#fail('unmatched parentheses: expected ")"');
    this.#at++;
    return inner;
  }

  #match(): BexprPredicate {
    this.#space();
    const start = this.#at;
    const quoted = this.#text[start] === '"' || this.#text[start] === '`';
    const numeric = !quoted && this.#peek(NUMBER) !== undefined;
    const selector = quoted || numeric ? undefined : this.#selector();
    if (selector !== undefined) {
      const operator = this.#selectorOperator();
      if (operator !== undefined) {
        const value = operator === 'is empty' || operator === 'is not empty' ? undefined : this.#value();
        return this.#compile(selector, operator, value);
      }
    }
    // `V in Sel` / `V not in Sel`: the left side was a value after all.
    this.#at = start;
    const value = this.#value();
    const operator = this.#keyword('not') ? (this.#keyword('in') ? 'not in' : undefined) : this.#keyword('in') ? 'in' : undefined;
    if (operator === undefined) this.#fail(selector === undefined ? 'expected "in" or "not in" after a value' : 'expected an operator: ==, !=, is empty, is not empty, in, not in, contains, not contains, matches, not matches');
    this.#space();
    const target = this.#selector();
    if (target === undefined) this.#fail('invalid selector');
    return this.#compile(target, operator, value);
  }

  #selectorOperator(): Operator | undefined {
    this.#space();
    if (this.#text.startsWith('==', this.#at)) return this.#symbol('==');
    if (this.#text.startsWith('!=', this.#at)) return this.#symbol('!=');
    const before = this.#at;
    if (this.#keyword('is')) {
      const negated = this.#keyword('not');
      if (this.#keyword('empty')) return negated ? 'is not empty' : 'is empty';
      this.#fail('expected "empty" after "is"');
    }
    if (this.#keyword('contains')) return 'in';
    if (this.#keyword('matches')) return 'matches';
    if (this.#keyword('not')) {
      if (this.#keyword('contains')) return 'not in';
      if (this.#keyword('matches')) return 'not matches';
      if (this.#keyword('in')) {
        this.#at = before;
        return undefined;
      }
      this.#fail('expected "contains", "matches" or "in" after "not"');
    }
    return undefined;
  }

  #selector(): Selector | undefined {
    const offset = this.#at;
    const first = this.#peek(IDENT);
    if (first === undefined) return undefined;
    this.#at += first.length;
    const path = [first];
    for (;;) {
      const c = this.#text[this.#at];
      if (c === '.') {
        const segment = this.#text.slice(this.#at + 1).match(/^(?:[a-zA-Z][a-zA-Z0-9_/]*|[0-9]+)/)?.[0];
        if (segment === undefined) this.#fail('expected a name after "."');
        this.#at += 1 + segment.length;
        path.push(segment);
      } else if (c === '[') {
        this.#at++;
        this.#space();
        const key = this.#string();
        if (key === undefined) this.#fail('invalid index: expected a quoted key');
        this.#space();
        if (this.#text[this.#at] !== ']') this.#fail('unclosed index expression');
        this.#at++;
        path.push(key);
      } else {
        return { path, offset };
      }
    }
  }

  #value(): { raw: string; offset: number } {
    this.#space();
    const offset = this.#at;
    const text = this.#string() ?? this.#number() ?? this.#selector()?.path.join('.');
    if (text === undefined) this.#fail('expected a value: a quoted string, a number or a bare word');
    return { raw: text, offset };
  }

  #string(): string | undefined {
    const quote = this.#text[this.#at];
    if (quote !== '"' && quote !== '`') return undefined;
    const start = this.#at;
    let i = start + 1;
    while (i < this.#text.length && this.#text[i] !== quote) i += quote === '"' && this.#text[i] === '\\' ? 2 : 1;
    if (i >= this.#text.length) this.#fail('unterminated string literal');
    this.#at = i + 1;
    if (quote === '`') return this.#text.slice(start + 1, i);
    try {
      return JSON.parse(this.#text.slice(start, i + 1)) as string; // Go's strconv.Unquote, for the escapes JSON shares
    } catch {
      return this.#fail('invalid escape in a quoted string', start);
    }
  }

  #number(): string | undefined {
    const number = this.#peek(NUMBER);
    if (number !== undefined) this.#at += number.length;
    return number;
  }

  #compile(selector: Selector, operator: Operator, value: { raw: string; offset: number } | undefined): BexprPredicate {
    const { leaf, walk } = this.#resolve(selector);
    const positive = NEGATED[operator] ?? operator;
    const test = this.#leafTest(leaf, positive, value, selector);
    const leafTest = positive === operator ? test : (v: unknown) => !test(v);
    this.#selectors.push(selector.path.join('.'));
    return (datum) => walk(datum, leafTest);
  }

  #leafTest(leaf: FieldType, operator: Operator, value: { raw: string; offset: number } | undefined, selector: Selector): (v: unknown) => boolean {
    const name = selector.path.join('.');
    const refuse = (): never => this.#fail(`"${operator}" cannot be used with ${name}, a ${describe(leaf)}`, selector.offset);
    const raw = value?.raw ?? '';
    switch (operator) {
      case 'is empty':
        if (leaf.kind === 'int' || leaf.kind === 'bool' || leaf.kind === 'object') return refuse();
        return (v) => lengthOf(v) === 0;
      case '==': {
        if (leaf.kind === 'string') return (v) => (v ?? '') === raw;
        if (leaf.kind === 'int') {
          if (!/^[+-]?\d+$/.test(raw)) this.#fail(`${JSON.stringify(raw)} is not an integer (${name} is one)`, value!.offset);
          const expected = Number(raw);
          return (v) => (typeof v === 'number' ? v : 0) === expected;
        }
        if (leaf.kind === 'bool') {
          if (!GO_TRUE.has(raw) && !GO_FALSE.has(raw)) this.#fail(`${JSON.stringify(raw)} is not a boolean (${name} is one)`, value!.offset);
          const expected = GO_TRUE.has(raw);
          return (v) => (v === true) === expected;
        }
        return refuse();
      }
      case 'in':
        if (leaf.kind === 'stringList') return (v) => Array.isArray(v) && v.includes(raw);
        if (leaf.kind === 'stringMap') return (v) => typeof v === 'object' && v !== null && Object.hasOwn(v, raw);
        if (leaf.kind === 'string') return (v) => ((v as string | undefined) ?? '').includes(raw);
        return refuse();
      case 'matches': {
        if (leaf.kind !== 'string') return refuse();
        const compiled = compileSafeSearch(raw);
        if (!compiled.ok) return this.#fail(`not an accepted regular expression: ${compiled.message}`, value!.offset);
        return (v) => compiled.regex.test((v as string | undefined) ?? '');
      }
      default:
        return refuse();
    }
  }

  /** The selected field's type, and a walk applying a leaf test (any element, through lists). */
  #resolve(selector: Selector): { leaf: FieldType; walk: (datum: unknown, test: (v: unknown) => boolean) => boolean } {
    let type = this.#fields;
    const steps: ((datum: unknown, rest: (v: unknown) => boolean) => boolean)[] = [];
    for (const segment of selector.path) {
      if (type.kind === 'object' || type.kind === 'objectList') {
        const field = Object.hasOwn(type.fields, segment) ? type.fields[segment] : undefined;
        if (field === undefined) this.#fail(`unknown selector ${selector.path.join('.')}: no field "${segment}"`, selector.offset);
        if (type.kind === 'objectList') steps.push((d, rest) => Array.isArray(d) && d.some((item) => rest(member(item, segment))));
        else steps.push((d, rest) => rest(member(d, segment)));
        type = field;
      } else if (type.kind === 'stringMap') {
        steps.push((d, rest) => rest(member(d, segment) ?? ''));
        type = { kind: 'string' };
      } else {
        this.#fail(`unknown selector ${selector.path.join('.')}: ${describe(type)} has no field "${segment}"`, selector.offset);
      }
    }
    const walk = steps.reduceRight<(datum: unknown, test: (v: unknown) => boolean) => boolean>(
      (next, step) => (d, test) => step(d, (v) => next(v, test)),
      (d, test) => test(d),
    );
    return { leaf: type, walk };
  }

  #keyword(word: string): boolean {
    const save = this.#at;
    this.#space();
    if (this.#text.startsWith(word, this.#at) && !/[a-zA-Z0-9_/]/.test(this.#text[this.#at + word.length] ?? '')) {
      this.#at += word.length;
      return true;
    }
    this.#at = save;
    return false;
  }

  #symbol<T extends string>(symbol: T): T {
    this.#at += symbol.length;
    return symbol;
  }

  #peek(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.#at;
    return pattern.exec(this.#text)?.[0];
  }

  #space(): void {
    SPACE.lastIndex = this.#at;
    SPACE.exec(this.#text);
    this.#at = SPACE.lastIndex;
  }

  #fail(message: string, offset = this.#at): never {
    throw new SyntaxFailure(offset, message);
  }
}

function member(datum: unknown, key: string): unknown {
  return typeof datum === 'object' && datum !== null && Object.hasOwn(datum, key) ? (datum as Record<string, unknown>)[key] : undefined;
}

function lengthOf(value: unknown): number {
  if (typeof value === 'string' || Array.isArray(value)) return value.length;
  if (typeof value === 'object' && value !== null) return Object.keys(value).length;
  return 0;
}

function describe(type: FieldType): string {
  return { string: 'string', int: 'number', bool: 'boolean', stringList: 'list of strings', stringMap: 'map of strings', object: 'object', objectList: 'list of objects' }[type.kind];
}
