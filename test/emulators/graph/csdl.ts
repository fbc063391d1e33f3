// Checks JSON bodies against the Graph v1.0 CSDL (names, types, enums, derived types); it only reports problems and never changes a body.
import { XMLParser } from 'fast-xml-parser';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';

/** The project's verbatim copy of Graph's cleaned v1.0 CSDL (provenance in contracts/PROVENANCE.md). */
export const CSDL_PATH = resolve(import.meta.dirname, 'contracts/cleanMetadata.xml');

interface PropertyDef {
  type: string;
  nullable: boolean;
}

interface StructuredType {
  fullName: string;
  baseType: string | null;
  kind: 'entity' | 'complex';
  abstract: boolean;
  properties: Map<string, PropertyDef>;
  navigation: Map<string, PropertyDef>;
}

interface ActionDef {
  name: string;
  bindingType: string;
  parameters: Map<string, PropertyDef>;
}

export interface CsdlModel {
  types: Map<string, StructuredType>;
  enums: Map<string, { members: Set<string>; isFlags: boolean }>;
  actions: ActionDef[];
}

type XmlNode = Record<string, unknown>;

const ARRAY_ELEMENTS = new Set(['Schema', 'EntityType', 'ComplexType', 'EnumType', 'Member', 'Property', 'NavigationProperty', 'Action', 'Parameter']);

function asNodes(v: unknown): XmlNode[] {
  return Array.isArray(v) ? (v as XmlNode[]) : [];
}

function str(n: XmlNode, key: string): string | undefined {
  const v = n[key];
  return typeof v === 'string' ? v : undefined;
}

let cached: CsdlModel | undefined;

/** Parses the CSDL once per process; later calls return the same model. */
export function loadCsdl(path: string = CSDL_PATH): CsdlModel {
  if (cached) return cached;
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', isArray: (name) => ARRAY_ELEMENTS.has(name) });
  const doc = parser.parse(readFileSync(path, 'utf8')) as XmlNode;
  const edmx = doc['edmx:Edmx'] as XmlNode;
  const services = edmx['edmx:DataServices'] as XmlNode;
  const schemas = asNodes(services['Schema']);
  const aliases = new Map<string, string>();
  for (const s of schemas) {
    const ns = str(s, 'Namespace') ?? '';
    aliases.set(ns, ns);
    const alias = str(s, 'Alias');
    if (alias) aliases.set(alias, ns);
  }
  const qualify = (name: string): string => {
    const m = /^Collection\((.+)\)$/.exec(name);
    if (m) return `Collection(${qualify(m[1] ?? '')})`;
    if (name.startsWith('Edm.')) return name;
    const dot = name.lastIndexOf('.');
    const prefix = name.slice(0, dot);
    return `${aliases.get(prefix) ?? prefix}.${name.slice(dot + 1)}`;
  };
  const model: CsdlModel = { types: new Map(), enums: new Map(), actions: [] };
  const props = (nodes: unknown): Map<string, PropertyDef> => {
    const out = new Map<string, PropertyDef>();
    for (const p of asNodes(nodes)) {
      out.set(str(p, 'Name') ?? '', { type: qualify(str(p, 'Type') ?? 'Edm.Untyped'), nullable: str(p, 'Nullable') !== 'false' });
    }
    return out;
  };
  for (const s of schemas) {
    const ns = str(s, 'Namespace') ?? '';
    for (const [tag, kind] of [['EntityType', 'entity'], ['ComplexType', 'complex']] as const) {
      for (const t of asNodes(s[tag])) {
        const fullName = `${ns}.${str(t, 'Name') ?? ''}`;
        const base = str(t, 'BaseType');
        model.types.set(fullName, {
          fullName,
          kind,
          baseType: base ? qualify(base) : null,
          abstract: str(t, 'Abstract') === 'true',
          properties: props(t['Property']),
          navigation: props(t['NavigationProperty']),
        });
      }
    }
    for (const e of asNodes(s['EnumType'])) {
      const members = new Set(asNodes(e['Member']).map((m) => str(m, 'Name') ?? ''));
      model.enums.set(`${ns}.${str(e, 'Name') ?? ''}`, { members, isFlags: str(e, 'IsFlags') === 'true' });
    }
    for (const a of asNodes(s['Action'])) {
      const params = asNodes(a['Parameter']);
      const binding = params[0];
      if (!binding || str(a, 'IsBound') !== 'true') continue;
      const parameters = new Map<string, PropertyDef>();
      for (const p of params.slice(1)) {
        parameters.set(str(p, 'Name') ?? '', { type: qualify(str(p, 'Type') ?? 'Edm.Untyped'), nullable: str(p, 'Nullable') !== 'false' });
      }
      model.actions.push({ name: str(a, 'Name') ?? '', bindingType: qualify(str(binding, 'Type') ?? ''), parameters });
    }
  }
  cached = model;
  return model;
}

/** Full name for a short one: 'event' → 'microsoft.graph.event'. */
export function graphType(short: string): string {
  return short.includes('.') ? short : `microsoft.graph.${short}`;
}

function findProperty(model: CsdlModel, typeName: string, prop: string): PropertyDef | undefined {
  let t = model.types.get(typeName);
  while (t) {
    const p = t.properties.get(prop) ?? t.navigation.get(prop);
    if (p) return p;
    t = t.baseType ? model.types.get(t.baseType) : undefined;
  }
  return undefined;
}

function derivesFrom(model: CsdlModel, typeName: string, base: string): boolean {
  let t = model.types.get(typeName);
  while (t) {
    if (t.fullName === base) return true;
    t = t.baseType ? model.types.get(t.baseType) : undefined;
  }
  return false;
}

const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;
const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Every way `value` breaks the CSDL type `typeName`, as readable sentences with a JSON path. */
export function validateValue(model: CsdlModel, typeName: string, value: unknown, path: string, nullable = true): string[] {
  if (value === null) return nullable ? [] : [`${path}: null is not allowed for ${typeName}`];
  const coll = /^Collection\((.+)\)$/.exec(typeName);
  if (coll) {
    if (!Array.isArray(value)) return [`${path}: expected an array of ${coll[1]}`];
    return value.flatMap((v, i) => validateValue(model, coll[1] ?? '', v, `${path}[${i}]`, true));
  }
  switch (typeName) {
    case 'Edm.Untyped':
    case 'Edm.Stream':
      return [];
    case 'Edm.String':
      return typeof value === 'string' ? [] : [`${path}: expected a string`];
    case 'Edm.Boolean':
      return typeof value === 'boolean' ? [] : [`${path}: expected a boolean`];
    case 'Edm.Int16':
    case 'Edm.Int32':
    case 'Edm.Int64':
    case 'Edm.Byte':
      return typeof value === 'number' && Number.isInteger(value) ? [] : [`${path}: expected an integer`];
    case 'Edm.Double':
    case 'Edm.Single':
    case 'Edm.Decimal':
      return typeof value === 'number' ? [] : [`${path}: expected a number`];
    case 'Edm.DateTimeOffset':
      return typeof value === 'string' && ISO_DATETIME.test(value) ? [] : [`${path}: expected an ISO 8601 date-time with offset`];
    case 'Edm.Date':
      return typeof value === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(value) ? [] : [`${path}: expected a date (yyyy-mm-dd)`];
    case 'Edm.TimeOfDay':
      return typeof value === 'string' && /^\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(value) ? [] : [`${path}: expected a time of day`];
    case 'Edm.Guid':
      return typeof value === 'string' && GUID.test(value) ? [] : [`${path}: expected a GUID`];
    case 'Edm.Binary':
      return typeof value === 'string' && /^[A-Za-z0-9+/=_-]*$/.test(value) ? [] : [`${path}: expected base64 binary`];
    case 'Edm.Duration':
      return typeof value === 'string' && /^-?P/.test(value) ? [] : [`${path}: expected an ISO 8601 duration`];
    default:
      break;
  }
  const en = model.enums.get(typeName);
  if (en) {
    if (typeof value !== 'string') return [`${path}: expected a ${typeName} member name`];
    const parts = en.isFlags ? value.split(',').map((s) => s.trim()) : [value];
    const bad = parts.filter((p) => !en.members.has(p));
    return bad.length === 0 ? [] : [`${path}: '${bad.join(',')}' is not a member of ${typeName}`];
  }
  const declared = model.types.get(typeName);
  if (!declared) return [`${path}: the CSDL has no type ${typeName}`];
  if (typeof value !== 'object' || Array.isArray(value)) return [`${path}: expected an object of type ${typeName}`];
  const obj = value as Record<string, unknown>;
  let actual = typeName;
  const odataType = obj['@odata.type'];
  if (typeof odataType === 'string') {
    const named = odataType.replace(/^#/, '');
    const full = named.includes('.') ? named : `microsoft.graph.${named}`;
    if (!model.types.has(full)) return [`${path}.@odata.type: unknown type ${odataType}`];
    if (!derivesFrom(model, full, typeName)) return [`${path}.@odata.type: ${full} does not derive from ${typeName}`];
    actual = full;
  }
  const errors: string[] = [];
  for (const [key, v] of Object.entries(obj)) {
    if (key.startsWith('@odata.') || key.includes('@odata.')) continue;
    const prop = findProperty(model, actual, key);
    if (!prop) {
      errors.push(`${path}.${key}: the property '${key}' does not exist on type '${actual}'`);
      continue;
    }
    errors.push(...validateValue(model, prop.type, v, `${path}.${key}`, prop.nullable));
  }
  return errors;
}

/** Validates the parameters object of a bound action, e.g. ('cancel', 'event') with {Comment}. */
export function validateActionBody(model: CsdlModel, action: string, bindingShort: string, body: unknown): string[] {
  const binding = graphType(bindingShort);
  const def = model.actions.find((a) => a.name === action && a.bindingType === binding);
  if (!def) return [`action ${action} bound to ${binding} is not in the CSDL`];
  if (body === undefined || body === null) return [];
  if (typeof body !== 'object' || Array.isArray(body)) return ['body: expected an object of action parameters'];
  const errors: string[] = [];
  // Graph matches action parameter names without regard to case (the docs' examples write the CSDL's Message as message).
  const byLower = new Map([...def.parameters.entries()].map(([name, p]) => [name.toLowerCase(), { name, p }]));
  const given = new Set(Object.keys(body as Record<string, unknown>).map((k) => k.toLowerCase()));
  for (const [key, v] of Object.entries(body as Record<string, unknown>)) {
    const p = byLower.get(key.toLowerCase())?.p;
    if (!p) {
      errors.push(`body.${key}: '${key}' is not a parameter of action ${action}`);
      continue;
    }
    errors.push(...validateValue(model, p.type, v, `body.${key}`, p.nullable));
  }
  for (const [name, p] of def.parameters) {
    if (!p.nullable && !given.has(name.toLowerCase())) errors.push(`body.${name}: required parameter is missing`);
  }
  return errors;
}

/** Validates an entity or complex body, e.g. ('event', {...}). */
export function validateBody(model: CsdlModel, typeShort: string, body: unknown): string[] {
  return validateValue(model, graphType(typeShort), body, 'body', false);
}
