// Checks the add-on's project files against the shared contracts: appsscript.json (as written and as built) against SchemaStore's draft-07 schema and Google's documented rules, and .clasp.json.example against clasp's draft-04 schema.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Ajv } from 'ajv';
import AjvDraft04Module from 'ajv-draft-04';
import { buildAppsScript } from '../../appsscript/build.mjs';

// ajv-draft-04 is CommonJS: under NodeNext its class is the module's `default` property.
const AjvDraft04 = AjvDraft04Module.default;
const root = resolve(import.meta.dirname, '../..');
const contracts = resolve(root, '../shared/contracts/apps-script');
const readJson = (path: string): Record<string, unknown> => JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;

/** Exactly the scopes the add-on asks for; a new one must be added here and explained in the README (Sheets add-on scopes). */
const EXPECTED_SCOPES = [
  'https://www.googleapis.com/auth/spreadsheets.currentonly',
  'https://www.googleapis.com/auth/script.container.ui',
  'https://www.googleapis.com/auth/script.external_request',
  'openid',
  'https://www.googleapis.com/auth/userinfo.email',
];

let workDir: string;
let built: Record<string, unknown>;
const appsscriptSchema = readJson(join(contracts, 'appsscript.schema.json'));

/**
 * SchemaStore annotates oauthScopes items as format "uri" and urlFetchWhitelist items as format "hostname", but
 * Google's own manifest documentation lists the scope "openid" and requires allowlist entries to be https URL
 * prefixes with a path. The formats are therefore registered as annotations only; Google's rules are checked below.
 */
function appsscriptValidator() {
  const ajv = new Ajv({ allErrors: true, strict: true, formats: { uri: true, hostname: true } });
  return ajv.compile(appsscriptSchema);
}

function claspValidator() {
  const ajv = new AjvDraft04({ allErrors: true });
  // Stand-in for SchemaStore's base-04.json (src/schemas/json/base-04.json), which the clasp schema references for "path"; same definition.
  ajv.addSchema({ id: 'https://json.schemastore.org/base-04.json', definitions: { path: { type: 'string', minLength: 1 } } });
  return ajv.compile(readJson(join(contracts, 'clasp.schema.json')));
}

beforeAll(() => {
  workDir = mkdtempSync(join(tmpdir(), 'muster-manifest-'));
  buildAppsScript({ serviceUrl: 'https://muster.example.com', out: workDir });
  built = readJson(join(workDir, 'appsscript.json'));
});
afterAll(() => {
  rmSync(workDir, { recursive: true, force: true });
});

describe('appsscript.json', () => {
  for (const which of ['source', 'built'] as const) {
    it(`when the ${which} manifest is validated against the appsscript.json schema, then it passes`, () => {
      const manifest = which === 'built' ? built : readJson(join(root, 'appsscript/appsscript.json'));
      const validate = appsscriptValidator();
      expect(validate(manifest), JSON.stringify(validate.errors)).toBe(true);
      const known = Object.keys(appsscriptSchema.properties as object);
      expect(Object.keys(manifest).filter((k) => !known.includes(k))).toEqual([]);
    });
  }

  it('when the manifest is wrong (an unknown runtime), then the validator says so (it is not a rubber stamp)', () => {
    const validate = appsscriptValidator();
    expect(validate({ ...built, runtimeVersion: 'RHINO' })).toBe(false);
    expect(validate({ ...built, oauthScopes: 'openid' })).toBe(false);
  });

  it('when built, then it is an Editor add-on on V8 with exactly the narrow scopes and an https allowlist with a path', () => {
    expect(built.addOns).toBeUndefined();
    expect(built.runtimeVersion).toBe('V8');
    expect(built.oauthScopes).toEqual(EXPECTED_SCOPES);
    expect((built.oauthScopes as string[]).some((s) => /auth\/spreadsheets$|drive|script\.scriptapp|script\.send_mail/.test(s))).toBe(false);
    const allowlist = built.urlFetchWhitelist as string[];
    expect(allowlist).toEqual(['https://muster.example.com/api/']);
    for (const prefix of allowlist) {
      const url = new URL(prefix);
      expect(url.protocol).toBe('https:');
      expect(url.pathname.length).toBeGreaterThan(1);
      expect(url.hostname).toContain('.');
    }
  });
});

describe('.clasp.json template', () => {
  it('when .clasp.json.example is validated against the clasp schema, then it passes and points clasp at the build', () => {
    const example = readJson(join(root, 'appsscript/.clasp.json.example'));
    const validate = claspValidator();
    expect(validate(example), JSON.stringify(validate.errors)).toBe(true);
    expect(example.rootDir).toBe('build');
  });

  it('when a script id has the wrong length, then the clasp schema refuses it', () => {
    const validate = claspValidator();
    expect(validate({ scriptId: 'too-short', rootDir: 'build' })).toBe(false);
    expect(validate({ rootDir: 'build' })).toBe(false);
  });
});
