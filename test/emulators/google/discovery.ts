// Loads Google's discovery documents once and checks requests (path, query, body, scopes) and responses against them; it never decides what a method does.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

export type ApiName = 'calendar' | 'gmail' | 'sheets' | 'directory';

interface JsonSchema {
  id?: string;
  type?: string;
  $ref?: string;
  format?: string;
  enum?: string[];
  properties?: Record<string, JsonSchema>;
  additionalProperties?: JsonSchema;
  items?: JsonSchema;
  minimum?: string;
  maximum?: string;
  repeated?: boolean;
  required?: boolean;
  location?: string;
}

interface DiscoveryMethod {
  id: string;
  httpMethod: string;
  path: string;
  parameters?: Record<string, JsonSchema>;
  request?: { $ref: string };
  response?: { $ref: string };
  scopes?: string[];
}

interface DiscoveryDoc {
  servicePath?: string;
  parameters: Record<string, JsonSchema>;
  schemas: Record<string, JsonSchema>;
  resources: Record<string, { methods?: Record<string, DiscoveryMethod>; resources?: DiscoveryDoc['resources'] }>;
}

export interface RouteMatch {
  api: ApiName;
  method: DiscoveryMethod;
  pathParams: Record<string, string>;
}

interface Route {
  api: ApiName;
  method: DiscoveryMethod;
  regex: RegExp;
  names: string[];
  literalLength: number;
}

/** One problem found while checking a message against the discovery document. */
export interface Problem {
  location: string;
  message: string;
}

const CONTRACTS_DIR = resolve(import.meta.dirname, 'contracts');
const FILES: Record<ApiName, string> = {
  calendar: 'calendar__v3.json',
  gmail: 'gmail__v1.json',
  sheets: 'sheets__v4.json',
  directory: 'admin__directory_v1.json',
};

let loaded: { docs: Record<ApiName, DiscoveryDoc>; routes: Route[] } | undefined;

function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function collectMethods(resources: DiscoveryDoc['resources'], out: DiscoveryMethod[]): void {
  for (const r of Object.values(resources)) {
    for (const m of Object.values(r.methods ?? {})) out.push(m);
    if (r.resources) collectMethods(r.resources, out);
  }
}

function loadAll(): { docs: Record<ApiName, DiscoveryDoc>; routes: Route[] } {
  if (loaded) return loaded;
  const docs = {} as Record<ApiName, DiscoveryDoc>;
  const routes: Route[] = [];
  for (const api of Object.keys(FILES) as ApiName[]) {
    const doc = JSON.parse(readFileSync(resolve(CONTRACTS_DIR, FILES[api]), 'utf8')) as DiscoveryDoc;
    docs[api] = doc;
    const methods: DiscoveryMethod[] = [];
    collectMethods(doc.resources, methods);
    for (const method of methods) {
      const full = (doc.servicePath ?? '') + method.path;
      const names: string[] = [];
      let literalLength = 0;
      const pattern = full.replace(/\{(\+?)([^}]+)\}|([^{]+)/g, (_m, plus: string | undefined, name: string | undefined, lit: string | undefined) => {
        if (lit !== undefined) {
          literalLength += lit.length;
          return escapeRegex(lit);
        }
        names.push(name!);
        return plus ? '(.+)' : '([^/]+)';
      });
      routes.push({ api, method, regex: new RegExp(`^/${pattern}$`), names, literalLength });
    }
  }
  // Most literal text first, so "values/{range}:append" wins over "values/{range}".
  routes.sort((a, b) => b.literalLength - a.literalLength);
  loaded = { docs, routes };
  return loaded;
}

export function matchRoute(httpMethod: string, path: string): RouteMatch | undefined {
  for (const r of loadAll().routes) {
    if (r.method.httpMethod !== httpMethod) continue;
    const m = r.regex.exec(path);
    if (!m) continue;
    const pathParams: Record<string, string> = {};
    r.names.forEach((n, i) => {
      pathParams[n] = decodeURIComponent(m[i + 1]!);
    });
    return { api: r.api, method: r.method, pathParams };
  }
  return undefined;
}

function checkScalar(schema: JsonSchema, value: string, where: string, problems: Problem[]): void {
  if (schema.type === 'integer') {
    if (!/^-?\d+$/.test(value)) problems.push({ location: where, message: `Invalid value at '${where}' (TYPE_INT32), "${value}"` });
    else {
      const n = Number(value);
      if (schema.minimum !== undefined && n < Number(schema.minimum)) problems.push({ location: where, message: `Invalid value at '${where}': below minimum ${schema.minimum}` });
      if (schema.maximum !== undefined && n > Number(schema.maximum)) problems.push({ location: where, message: `Invalid value at '${where}': above maximum ${schema.maximum}` });
    }
  } else if (schema.type === 'boolean') {
    if (value !== 'true' && value !== 'false') problems.push({ location: where, message: `Invalid value at '${where}' (TYPE_BOOL), "${value}"` });
  } else if (schema.enum && !schema.enum.includes(value)) {
    problems.push({ location: where, message: `Invalid value at '${where}' (TYPE_ENUM), "${value}"` });
  }
}

/** Query parameters must be the method's own or the API's global ones, with the right types. */
export function checkQuery(match: RouteMatch, query: URLSearchParams): Problem[] {
  const doc = loadAll().docs[match.api];
  const problems: Problem[] = [];
  const keys = new Set(query.keys());
  for (const key of keys) {
    const spec = match.method.parameters?.[key] ?? doc.parameters[key];
    if (!spec || spec.location === 'path') {
      problems.push({ location: key, message: `Invalid JSON payload received. Unknown name "${key}": Cannot bind query parameter. Field '${key}' could not be found in request message.` });
      continue;
    }
    const values = query.getAll(key);
    if (values.length > 1 && !spec.repeated) problems.push({ location: key, message: `Parameter '${key}' is not repeated but was given ${values.length} times` });
    for (const v of values) checkScalar(spec, v, key, problems);
  }
  for (const [name, spec] of Object.entries(match.method.parameters ?? {})) {
    if (spec.required && spec.location === 'query' && !keys.has(name)) problems.push({ location: name, message: `Required parameter '${name}' is missing` });
  }
  return problems;
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function checkValue(doc: DiscoveryDoc, schema: JsonSchema, value: unknown, where: string, problems: Problem[]): void {
  if (schema.$ref) {
    const target = doc.schemas[schema.$ref];
    if (!target) {
      problems.push({ location: where, message: `schema ${schema.$ref} is not in the discovery document` });
      return;
    }
    checkValue(doc, target, value, where, problems);
    return;
  }
  if (value === null || value === undefined) return; // proto3 JSON: null means "default"
  const bad = (kind: string): void => {
    problems.push({ location: where, message: `Invalid value at '${where}' (${kind}), ${JSON.stringify(value)?.slice(0, 80)}` });
  };
  switch (schema.type) {
    case 'any':
      return;
    case 'string':
      if (typeof value !== 'string') {
        // int64/uint64 are strings in JSON but Google also accepts plain numbers.
        if (!(typeof value === 'number' && (schema.format === 'int64' || schema.format === 'uint64'))) bad('TYPE_STRING');
        return;
      }
      if (schema.enum && !schema.enum.includes(value)) bad('TYPE_ENUM');
      if ((schema.format === 'int64' || schema.format === 'uint64') && !/^-?\d+$/.test(value)) bad('TYPE_INT64');
      return;
    case 'integer':
      if (typeof value === 'number' ? !Number.isInteger(value) : !(typeof value === 'string' && /^-?\d+$/.test(value))) bad('TYPE_INT32');
      return;
    case 'number':
      if (typeof value !== 'number' && !(typeof value === 'string' && value.trim() !== '' && !Number.isNaN(Number(value)))) bad('TYPE_DOUBLE');
      return;
    case 'boolean':
      if (typeof value !== 'boolean') bad('TYPE_BOOL');
      return;
    case 'array':
      if (!Array.isArray(value)) {
        bad('TYPE_ARRAY');
        return;
      }
      if (schema.items) value.forEach((item, i) => checkValue(doc, schema.items!, item, `${where}[${i}]`, problems));
      return;
    case 'object':
    default: {
      if (typeName(value) !== 'object') {
        problems.push({ location: where, message: `Invalid value at '${where}' (type.googleapis.com/${schema.id ?? 'object'}), ${typeName(value)}` });
        return;
      }
      const obj = value as Record<string, unknown>;
      if (!schema.properties && !schema.additionalProperties) return; // free-form object
      for (const [k, v] of Object.entries(obj)) {
        const child = schema.properties?.[k] ?? schema.additionalProperties;
        if (!child) {
          problems.push({ location: `${where}.${k}`, message: `Invalid JSON payload received. Unknown name "${k}" at '${where}': Cannot find field.` });
          continue;
        }
        checkValue(doc, child, v, `${where}.${k}`, problems);
      }
    }
  }
}

/** Checks a JSON body against a named schema, recursively; unknown fields and wrong types are problems. */
export function checkSchema(api: ApiName, schemaName: string, body: unknown, root: string): Problem[] {
  const doc = loadAll().docs[api];
  const problems: Problem[] = [];
  checkValue(doc, { $ref: schemaName }, body, root, problems);
  return problems;
}

export function checkRequestBody(match: RouteMatch, body: unknown): Problem[] {
  if (!match.method.request) {
    return body === undefined ? [] : [{ location: 'body', message: `Method ${match.method.id} takes no request body` }];
  }
  if (body === undefined) return [];
  return checkSchema(match.api, match.method.request.$ref, body, lowerFirst(match.method.request.$ref));
}

export function checkResponseBody(match: RouteMatch, body: unknown): Problem[] {
  if (!match.method.response || body === undefined) return [];
  return checkSchema(match.api, match.method.response.$ref, body, lowerFirst(match.method.response.$ref));
}

function lowerFirst(s: string): string {
  return s.charAt(0).toLowerCase() + s.slice(1);
}

/** The scopes under which a method may be called, exactly as the discovery document lists them. */
export function methodScopes(match: RouteMatch): string[] {
  return match.method.scopes ?? [];
}
