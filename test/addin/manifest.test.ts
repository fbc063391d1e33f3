// Validates the generated Outlook manifests against Microsoft's published schemas (XSDs via libxml2 in wasm, the unified JSON schema via Ajv draft-04) and checks what they point Outlook at.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { validateXML, type XMLFileInfo } from 'xmllint-wasm';
import AjvDraft04Module from 'ajv-draft-04';
import { XMLParser } from 'fast-xml-parser';
import { parseManifestArgs, renderUnifiedManifest, renderXmlManifest } from '../../addin-manifest/generate.js';
import { isMusterError } from '../../src/domain/errors.js';

// ajv-draft-04 is CommonJS: under NodeNext its class is the module's `default` property.
const AjvDraft04 = AjvDraft04Module.default;
const CONTRACTS = resolve(import.meta.dirname, '../../../shared/contracts/office-manifest');
const XSD_DIR = resolve(CONTRACTS, 'xml-addin-only');
const HOST = 'https://muster.example.com';
const APP_ID = '0f6a3c1e-8a4b-4c5d-9e7f-1a2b3c4d5e6f';

/**
 * The XSD set as the contracts README prescribes: the docs copies (the manifest uses only
 * VersionOverrides 1.0 elements, so the docs MailAppVersionOverridesV1_1.xsd rather than the 2017
 * alternative), our stand-in ContentAppVersionOverridesV1_0.xsd, and the lazy `{0,3}?` Version
 * pattern relaxed to `{0,3}` in memory, because XML Schema regexes have no lazy quantifiers.
 */
function loadXsdSet(): { main: XMLFileInfo; preload: XMLFileInfo[] } {
  const read = (name: string): XMLFileInfo => ({
    fileName: name,
    contents: readFileSync(resolve(XSD_DIR, name), 'utf8').replaceAll('{0,3}?', '{0,3}'),
  });
  return {
    main: read('OfficeAppManifestV1_1.xsd'),
    preload: [
      read('OfficeAppBasicTypesV1_0.xsd'),
      read('MailAppVersionOverridesV1_0.xsd'),
      read('MailAppVersionOverridesV1_1.xsd'),
      read('TaskPaneAppVersionOverridesV1_0.xsd'),
      {
        fileName: 'ContentAppVersionOverridesV1_0.xsd',
        contents: readFileSync(resolve(import.meta.dirname, 'fixtures/ContentAppVersionOverridesV1_0.xsd'), 'utf8'),
      },
    ],
  };
}

async function validateManifestXml(xml: string) {
  const { main, preload } = loadXsdSet();
  return validateXML({ xml: [{ fileName: 'manifest.xml', contents: xml }], schema: [main], preload });
}

function validateUnified(json: unknown) {
  const schema = JSON.parse(readFileSync(resolve(CONTRACTS, 'unified/MicrosoftTeams.v1.30.schema.json'), 'utf8')) as object;
  const ajv = new AjvDraft04({ strict: false, allErrors: true });
  ajv.addFormat('uri', (s: string) => URL.canParse(s));
  const validate = ajv.compile(schema);
  const ok = validate(json);
  return { ok, errors: validate.errors ?? [] };
}

describe('XML add-in-only manifest', () => {
  it('when generated for a host and app id, then it validates against the Office XSDs', async () => {
    const result = await validateManifestXml(renderXmlManifest({ host: HOST, appId: APP_ID }));
    expect(result.errors.map((e) => e.rawMessage)).toEqual([]);
    expect(result.valid).toBe(true);
  });

  it('when the XSD pattern is not relaxed, then libxml2 refuses the schema (the README fix is needed)', async () => {
    const { main, preload } = loadXsdSet();
    const raw = { fileName: main.fileName, contents: readFileSync(resolve(XSD_DIR, main.fileName), 'utf8') };
    const rawBasic = { fileName: 'OfficeAppBasicTypesV1_0.xsd', contents: readFileSync(resolve(XSD_DIR, 'OfficeAppBasicTypesV1_0.xsd'), 'utf8') };
    const result = await validateXML({
      xml: [{ fileName: 'manifest.xml', contents: renderXmlManifest({ host: HOST, appId: APP_ID }) }],
      schema: [raw],
      preload: [rawBasic, ...preload.filter((p) => p.fileName !== rawBasic.fileName)],
    }).catch((err: unknown) => ({ valid: false, errors: [{ rawMessage: String(err) }] }));
    expect(result.valid).toBe(false);
  });

  it('when an element is out of the schema order, then validation fails', async () => {
    const good = renderXmlManifest({ host: HOST, appId: APP_ID });
    const broken = good.replace('<Permissions>ReadWriteItem</Permissions>\n', '').replace('<FormSettings>', '<Permissions>ReadWriteItem</Permissions>\n  <FormSettings>');
    expect(broken).not.toBe(good);
    const result = await validateManifestXml(broken);
    expect(result.valid).toBe(false);
    expect(result.errors.some((e) => /Permissions/.test(e.message))).toBe(true);
  });

  it('when a required element is missing, then validation fails', async () => {
    const broken = renderXmlManifest({ host: HOST, appId: APP_ID }).replace(/<Id>[^<]*<\/Id>\n\s*/, '');
    const result = await validateManifestXml(broken);
    expect(result.valid).toBe(false);
  });

  it('when generated, then the three command surfaces open the pane on the host with their surface, with served icons', () => {
    const xml = renderXmlManifest({ host: `${HOST}/`, appId: APP_ID.toUpperCase(), name: 'Muster Acme', version: '2.1.0.7' });
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@' }).parse(xml) as {
      OfficeApp: Record<string, unknown> & {
        VersionOverrides: { Hosts: { Host: { DesktopFormFactor: { ExtensionPoint: { '@xsi:type': string }[] } } }; Resources: Record<string, unknown> };
      };
    };
    const app = doc.OfficeApp;
    expect(app['@xsi:type']).toBe('MailApp');
    expect(app.Id).toBe(APP_ID);
    expect(app.Version).toBe('2.1.0.7');
    expect(app.Permissions).toBe('ReadWriteItem');
    expect(app.Requirements).toEqual({ Sets: { Set: { '@Name': 'Mailbox', '@MinVersion': '1.3' } } });
    expect(app.AppDomains).toEqual({ AppDomain: HOST });
    expect(app).not.toHaveProperty('WebApplicationInfo');
    const points = app.VersionOverrides.Hosts.Host.DesktopFormFactor.ExtensionPoint.map((p) => p['@xsi:type']);
    expect(points).toEqual(['AppointmentOrganizerCommandSurface', 'MessageReadCommandSurface', 'AppointmentAttendeeCommandSurface']);
    for (const surface of ['organizer', 'read', 'attendee']) {
      expect(xml).toContain(`DefaultValue="${HOST}/addin/pane.html?surface=${surface}"`);
    }
    for (const size of [16, 32, 80]) expect(xml).toContain(`DefaultValue="${HOST}/addin/assets/icon-${size}.png"`);
    expect(xml).not.toMatch(/getAccessToken|WebApplicationInfo/);
  });

  it('when the host is plain HTTP on a public name or the app id is not a GUID, then generation refuses', () => {
    const err = (() => {
      try {
        renderXmlManifest({ host: 'http://muster.example.com', appId: 'not-a-guid' });
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(isMusterError(err, 'VALIDATION_FAILED')).toBe(true);
    expect((err as { details: { field: string }[] }).details.map((d) => d.field)).toEqual(['host', 'appId']);
  });

  it('when a name contains markup, then it is escaped and the manifest still validates', async () => {
    const xml = renderXmlManifest({ host: HOST, appId: APP_ID, name: 'R&D <Training>' });
    expect(xml).toContain('DefaultValue="R&amp;D &lt;Training&gt;"');
    expect((await validateManifestXml(xml)).valid).toBe(true);
  });
});

describe('unified JSON manifest', () => {
  it('when generated, then it validates against MicrosoftTeams.v1.30.schema.json', () => {
    const json = JSON.parse(renderUnifiedManifest({ host: HOST, appId: APP_ID })) as { extensions: { ribbons: { contexts: string[] }[] }[]; version: string };
    const { ok, errors } = validateUnified(json);
    expect(errors).toEqual([]);
    expect(ok).toBe(true);
    expect(json.version).toBe('1.0.0');
    expect(json.extensions[0]?.ribbons.flatMap((r) => r.contexts)).toEqual(['meetingDetailsOrganizer', 'mailRead', 'meetingDetailsAttendee']);
  });

  it('when the manifest breaks the schema, then validation fails', () => {
    const json = JSON.parse(renderUnifiedManifest({ host: HOST, appId: APP_ID })) as Record<string, unknown>;
    expect(validateUnified({ ...json, manifestVersion: '1.17' }).ok).toBe(false);
    expect(validateUnified({ ...json, accentColor: 'blue' }).ok).toBe(false);
    const { developer: _dropped, ...noDeveloper } = json;
    expect(validateUnified(noDeveloper).ok).toBe(false);
  });

  it('when the host is plain HTTP, then the unified manifest is refused by its schema (it needs HTTPS pages)', () => {
    const json = JSON.parse(renderUnifiedManifest({ host: 'http://localhost:8080', appId: APP_ID })) as unknown;
    expect(validateUnified(json).ok).toBe(false);
  });
});

describe('manifest CLI arguments', () => {
  it('when given --host, --app-id, --out and --format, then they are parsed', () => {
    expect(parseManifestArgs(['--host', HOST, '--app-id', APP_ID, '--out', 'm.json', '--format=json'])).toEqual({
      host: HOST,
      appId: APP_ID,
      out: 'm.json',
      format: 'json',
    });
  });

  it('when --app-id is missing or a flag is unknown, then parsing refuses', () => {
    expect(() => parseManifestArgs(['--host', HOST])).toThrow(/--app-id/);
    expect(() => parseManifestArgs(['--host', HOST, '--app-id', APP_ID, '--colour', 'red'])).toThrow(/--colour/);
  });
});
