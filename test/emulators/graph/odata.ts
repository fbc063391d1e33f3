// Parses and applies the small part of OData query options the emulator supports ($filter subset, $select, $expand of extended properties); unsupported forms are errors, never ignored.

export class ODataError extends Error {}

type Literal = string | number | boolean | null;

type Expr =
  | { kind: 'and'; left: Expr; right: Expr }
  | { kind: 'or'; left: Expr; right: Expr }
  | { kind: 'cmp'; op: 'eq' | 'ne' | 'gt' | 'ge' | 'lt' | 'le'; path: string; value: Literal }
  | { kind: 'func'; name: 'startswith' | 'endswith' | 'contains'; path: string; value: string }
  | { kind: 'any'; collection: string; variable: string; body: Expr };

const TOKEN = /\s*('(?:[^']|'')*'|[A-Za-z_@][\w./@]*|\d{4}-\d{2}-\d{2}T[\d:.]+(?:Z|[+-]\d{2}:\d{2})?|-?\d+(?:\.\d+)?|[(),:])/y;

function tokenize(src: string): string[] {
  const out: string[] = [];
  TOKEN.lastIndex = 0;
  let pos = 0;
  while (pos < src.length) {
    if (/^\s*$/.test(src.slice(pos))) break;
    TOKEN.lastIndex = pos;
    const m = TOKEN.exec(src);
    if (!m || m[1] === undefined) throw new ODataError(`Invalid filter clause near '${src.slice(pos, pos + 20)}'`);
    out.push(m[1]);
    pos = TOKEN.lastIndex;
  }
  return out;
}

function parseLiteral(tok: string): Literal {
  if (tok.startsWith("'")) return tok.slice(1, -1).replace(/''/g, "'");
  if (tok === 'true') return true;
  if (tok === 'false') return false;
  if (tok === 'null') return null;
  if (/^\d{4}-\d{2}-\d{2}T/.test(tok)) return tok;
  const n = Number(tok);
  if (Number.isNaN(n)) throw new ODataError(`Invalid literal '${tok}'`);
  return n;
}

/** Parses a $filter expression (and/or, comparisons, startswith/endswith/contains, collection/any(x: ...)). */
export function parseFilter(src: string): Expr {
  const toks = tokenize(src);
  let i = 0;
  const peek = (): string | undefined => toks[i];
  const next = (): string => {
    const t = toks[i++];
    if (t === undefined) throw new ODataError('Unexpected end of filter clause');
    return t;
  };
  const expect = (t: string): void => {
    const got = next();
    if (got !== t) throw new ODataError(`Expected '${t}' but found '${got}'`);
  };
  const orExpr = (): Expr => {
    let left = andExpr();
    while (peek()?.toLowerCase() === 'or') {
      next();
      left = { kind: 'or', left, right: andExpr() };
    }
    return left;
  };
  const andExpr = (): Expr => {
    let left = primary();
    while (peek()?.toLowerCase() === 'and') {
      next();
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };
  const primary = (): Expr => {
    const t = next();
    if (t === '(') {
      const e = orExpr();
      expect(')');
      return e;
    }
    const lower = t.toLowerCase();
    if ((lower === 'startswith' || lower === 'endswith' || lower === 'contains') && peek() === '(') {
      next();
      const path = next();
      expect(',');
      const v = parseLiteral(next());
      expect(')');
      if (typeof v !== 'string') throw new ODataError(`${lower} needs a string`);
      return { kind: 'func', name: lower, path, value: v };
    }
    const anyMatch = /^(.+)\/any$/i.exec(t);
    if (anyMatch && peek() === '(') {
      next();
      const variable = next();
      expect(':');
      const body = orExpr();
      expect(')');
      return { kind: 'any', collection: anyMatch[1] ?? '', variable, body };
    }
    const op = next().toLowerCase();
    if (!['eq', 'ne', 'gt', 'ge', 'lt', 'le'].includes(op)) throw new ODataError(`Unsupported operator '${op}'`);
    return { kind: 'cmp', op: op as 'eq', path: t, value: parseLiteral(next()) };
  };
  const e = orExpr();
  if (i !== toks.length) throw new ODataError(`Unexpected '${toks[i] ?? ''}' in filter clause`);
  return e;
}

function getPath(obj: unknown, path: string): unknown {
  let cur: unknown = obj;
  for (const part of path.split('/')) {
    if (cur === null || typeof cur !== 'object') return undefined;
    const rec = cur as Record<string, unknown>;
    const hit = Object.keys(rec).find((k) => k.toLowerCase() === part.toLowerCase());
    cur = hit === undefined ? undefined : rec[hit];
  }
  return cur;
}

function compare(a: unknown, b: Literal, op: string, caseInsensitive: boolean): boolean {
  let x = a;
  let y: unknown = b;
  if (typeof x === 'string' && typeof y === 'string' && caseInsensitive) {
    x = x.toLowerCase();
    y = y.toLowerCase();
  }
  switch (op) {
    case 'eq':
      return x === y || (x === undefined && y === null);
    case 'ne':
      return !(x === y || (x === undefined && y === null));
    case 'gt':
      return (x as number) > (y as number);
    case 'ge':
      return (x as number) >= (y as number);
    case 'lt':
      return (x as number) < (y as number);
    default:
      return (x as number) <= (y as number);
  }
}

/**
 * Evaluates a filter on one item. `collections` supplies lambda collections that are not plain properties
 * (e.g. singleValueExtendedProperties, kept apart from the item's JSON).
 */
export function matchesFilter(expr: Expr, item: unknown, collections: Record<string, unknown[]> = {}, scope: Record<string, unknown> = {}): boolean {
  switch (expr.kind) {
    case 'and':
      return matchesFilter(expr.left, item, collections, scope) && matchesFilter(expr.right, item, collections, scope);
    case 'or':
      return matchesFilter(expr.left, item, collections, scope) || matchesFilter(expr.right, item, collections, scope);
    case 'any': {
      const key = Object.keys(collections).find((k) => k.toLowerCase() === expr.collection.toLowerCase());
      const list = key !== undefined ? collections[key] : getPath(item, expr.collection);
      if (!Array.isArray(list)) return false;
      return list.some((el) => matchesFilter(expr.body, item, collections, { ...scope, [expr.variable]: el }));
    }
    case 'func': {
      const v = resolve(expr.path, item, scope);
      if (typeof v !== 'string') return false;
      const a = v.toLowerCase();
      const b = expr.value.toLowerCase();
      return expr.name === 'startswith' ? a.startsWith(b) : expr.name === 'endswith' ? a.endsWith(b) : a.includes(b);
    }
    case 'cmp': {
      const v = resolve(expr.path, item, scope);
      // Graph compares extended property ids case-insensitively; addresses too.
      return compare(v, expr.value, expr.op, true);
    }
  }
}

function resolve(path: string, item: unknown, scope: Record<string, unknown>): unknown {
  const [head, ...rest] = path.split('/');
  if (head !== undefined && head in scope) return rest.length === 0 ? scope[head] : getPath(scope[head], rest.join('/'));
  return getPath(item, path);
}

/** Parses `$expand=singleValueExtendedProperties($filter=id eq '...')` into the ids it asks for. */
export function parseExpandExtended(expand: string | null): { expand: boolean; ids: string[] | null } {
  if (!expand) return { expand: false, ids: null };
  const m = /^singleValueExtendedProperties(?:\(\$filter=(.+)\))?$/i.exec(expand.trim());
  if (!m) throw new ODataError(`Unsupported $expand '${expand}'`);
  if (!m[1]) return { expand: true, ids: null };
  const ids: string[] = [];
  const collect = (e: Expr): void => {
    if (e.kind === 'or' || e.kind === 'and') {
      collect(e.left);
      collect(e.right);
    } else if (e.kind === 'cmp' && e.path.toLowerCase() === 'id' && e.op === 'eq' && typeof e.value === 'string') {
      ids.push(e.value);
    } else {
      throw new ODataError('Only id eq filters are supported inside $expand');
    }
  };
  collect(parseFilter(m[1]));
  return { expand: true, ids };
}

/** Keeps the $select'ed properties (and id and @odata annotations). */
export function applySelect(item: Record<string, unknown>, select: string | null): Record<string, unknown> {
  if (!select) return item;
  const wanted = new Set(select.split(',').map((s) => s.trim().toLowerCase()));
  wanted.add('id');
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) {
    if (wanted.has(k.toLowerCase()) || k.startsWith('@odata') || k === 'singleValueExtendedProperties') out[k] = v;
  }
  return out;
}
