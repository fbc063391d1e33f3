// Generates the Outlook add-in manifest for one public origin and app id: the XML add-in-only manifest admins deploy, or the unified JSON manifest as an alternative (never both); it writes files only from its CLI entry.
import { writeFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import {
  ADDIN_PATHS,
  COMMAND_SURFACES,
  MAILBOX_MIN_VERSION,
  OUTLINE_ICON_FILE,
  type PaneSurface,
} from '../src/addin/constants.js';
import { MusterError } from '../src/domain/errors.js';

export interface ManifestOptions {
  /** Public origin of the Muster service, e.g. https://muster.example.com (http only for localhost). */
  host: string;
  /** The add-in's own GUID (not the Entra app registration). */
  appId: string;
  name?: string;
  /** Dotted version, 1 to 4 parts for XML; the unified manifest needs three (semver). */
  version?: string;
}

const DEFAULT_NAME = 'Muster';
const DEFAULT_VERSION = '1.0.0';
const GUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const VERSION = /^[0-9]{1,5}(\.[0-9]{1,5}){0,3}$/;
const ACCENT_COLOR = '#2B579A';

interface Resolved {
  origin: string;
  appId: string;
  name: string;
  version: string;
}

/** Checks the options and reduces the host to its origin; throws MusterError 'VALIDATION_FAILED'. */
export function parseManifestOptions(opts: ManifestOptions): Resolved {
  const details: { field: string; message: string }[] = [];
  let origin = '';
  try {
    const url = new URL(opts.host);
    const local = url.hostname === 'localhost' || url.hostname === '127.0.0.1';
    if (url.protocol !== 'https:' && !(local && url.protocol === 'http:')) {
      details.push({ field: 'host', message: 'The add-in must be served over HTTPS (plain HTTP only on localhost).' });
    }
    if (url.pathname !== '/' || url.search || url.hash) {
      details.push({ field: 'host', message: 'Give only the origin, e.g. https://muster.example.com, without a path.' });
    }
    origin = url.origin;
  } catch {
    details.push({ field: 'host', message: `"${opts.host}" is not an absolute URL.` });
  }
  if (!GUID.test(opts.appId)) details.push({ field: 'appId', message: 'The app id must be a GUID.' });
  const version = opts.version ?? DEFAULT_VERSION;
  if (!VERSION.test(version)) details.push({ field: 'version', message: 'The version must be 1 to 4 dot-separated numbers.' });
  const name = opts.name ?? DEFAULT_NAME;
  if (name.length === 0 || name.length > 30) details.push({ field: 'name', message: 'The name must be 1 to 30 characters.' });
  if (details.length > 0) throw new MusterError('VALIDATION_FAILED', 'The manifest options are not valid.', { details });
  return { origin, appId: opts.appId.toLowerCase(), name, version };
}

export function paneUrl(origin: string, surface: PaneSurface): string {
  return `${origin}${ADDIN_PATHS.pane}?surface=${surface}`;
}

export function iconUrl(origin: string, size: number): string {
  return `${origin}${ADDIN_PATHS.assets}/icon-${size}.png`;
}

function escapeXml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

const LABELS: Record<(typeof COMMAND_SURFACES)[number]['surface'], { label: string; title: string; description: string }> = {
  organizer: {
    label: 'Muster session',
    title: 'Send as a Muster session',
    description: "Pick a program's session to fill in this meeting, or see the session's checklist and responses.",
  },
  read: {
    label: 'Muster',
    title: 'Open Muster',
    description: "See a session's state and checklist, send reminders, mark attendance or log this mail as a learner's question.",
  },
  attendee: {
    label: 'Muster session',
    title: 'Session details',
    description: "See who has answered, who lacks prerequisites, and mark attendance for this session.",
  },
};

const DESCRIPTION = 'Send training sessions from Outlook, follow the launch checklist, send reminders and mark attendance.';

/** The XML add-in-only manifest (MailApp, Mailbox 1.3, add-in commands on three surfaces). */
export function renderXmlManifest(opts: ManifestOptions): string {
  const m = parseManifestOptions(opts);
  const o = m.origin;
  const x = escapeXml;
  const extensionPoints = COMMAND_SURFACES.map(
    (s) => `          <ExtensionPoint xsi:type="${s.extensionPoint}">
            <OfficeTab id="TabDefault">
              <Group id="Muster.${s.surface}.Group">
                <Label resid="Muster.GroupLabel"/>
                <Control xsi:type="Button" id="Muster.${s.surface}.Open">
                  <Label resid="Muster.${s.surface}.Label"/>
                  <Supertip>
                    <Title resid="Muster.${s.surface}.Title"/>
                    <Description resid="Muster.${s.surface}.Description"/>
                  </Supertip>
                  <Icon>
                    <bt:Image size="16" resid="Muster.Icon16"/>
                    <bt:Image size="32" resid="Muster.Icon32"/>
                    <bt:Image size="80" resid="Muster.Icon80"/>
                  </Icon>
                  <Action xsi:type="ShowTaskpane">
                    <SourceLocation resid="Muster.${s.surface}.Url"/>
                  </Action>
                </Control>
              </Group>
            </OfficeTab>
          </ExtensionPoint>`,
  ).join('\n');
  const urls = COMMAND_SURFACES.map((s) => `        <bt:Url id="Muster.${s.surface}.Url" DefaultValue="${x(paneUrl(o, s.surface))}"/>`).join('\n');
  const shortStrings = COMMAND_SURFACES.flatMap((s) => [
    `        <bt:String id="Muster.${s.surface}.Label" DefaultValue="${x(LABELS[s.surface].label)}"/>`,
    `        <bt:String id="Muster.${s.surface}.Title" DefaultValue="${x(LABELS[s.surface].title)}"/>`,
  ]).join('\n');
  const longStrings = COMMAND_SURFACES.map(
    (s) => `        <bt:String id="Muster.${s.surface}.Description" DefaultValue="${x(LABELS[s.surface].description)}"/>`,
  ).join('\n');

  return `<?xml version="1.0" encoding="UTF-8"?>
<!-- Generated by addin-manifest/generate.ts for ${x(o)}; upload it in Microsoft 365 admin center, Integrated Apps. -->
<OfficeApp xmlns="http://schemas.microsoft.com/office/appforoffice/1.1"
           xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
           xmlns:bt="http://schemas.microsoft.com/office/officeappbasictypes/1.0"
           xsi:type="MailApp">
  <Id>${x(m.appId)}</Id>
  <Version>${x(m.version)}</Version>
  <ProviderName>Muster</ProviderName>
  <DefaultLocale>en-US</DefaultLocale>
  <DisplayName DefaultValue="${x(m.name)}"/>
  <Description DefaultValue="${x(DESCRIPTION)}"/>
  <IconUrl DefaultValue="${x(iconUrl(o, 64))}"/>
  <HighResolutionIconUrl DefaultValue="${x(iconUrl(o, 128))}"/>
  <SupportUrl DefaultValue="${x(o)}/"/>
  <AppDomains>
    <AppDomain>${x(o)}</AppDomain>
  </AppDomains>
  <Hosts>
    <Host Name="Mailbox"/>
  </Hosts>
  <Requirements>
    <Sets>
      <Set Name="Mailbox" MinVersion="${MAILBOX_MIN_VERSION}"/>
    </Sets>
  </Requirements>
  <FormSettings>
    <Form xsi:type="ItemRead">
      <DesktopSettings>
        <SourceLocation DefaultValue="${x(paneUrl(o, 'read'))}"/>
        <RequestedHeight>250</RequestedHeight>
      </DesktopSettings>
    </Form>
    <Form xsi:type="ItemEdit">
      <DesktopSettings>
        <SourceLocation DefaultValue="${x(paneUrl(o, 'organizer'))}"/>
      </DesktopSettings>
    </Form>
  </FormSettings>
  <Permissions>ReadWriteItem</Permissions>
  <Rule xsi:type="RuleCollection" Mode="Or">
    <Rule xsi:type="ItemIs" ItemType="Message" FormType="Read"/>
    <Rule xsi:type="ItemIs" ItemType="Appointment" FormType="Edit"/>
    <Rule xsi:type="ItemIs" ItemType="Appointment" FormType="Read"/>
  </Rule>
  <DisableEntityHighlighting>false</DisableEntityHighlighting>
  <VersionOverrides xmlns="http://schemas.microsoft.com/office/mailappversionoverrides" xsi:type="VersionOverridesV1_0">
    <Requirements>
      <bt:Sets DefaultMinVersion="${MAILBOX_MIN_VERSION}">
        <bt:Set Name="Mailbox"/>
      </bt:Sets>
    </Requirements>
    <Hosts>
      <Host xsi:type="MailHost">
        <DesktopFormFactor>
          <FunctionFile resid="Muster.Commands.Url"/>
${extensionPoints}
        </DesktopFormFactor>
      </Host>
    </Hosts>
    <Resources>
      <bt:Images>
        <bt:Image id="Muster.Icon16" DefaultValue="${x(iconUrl(o, 16))}"/>
        <bt:Image id="Muster.Icon32" DefaultValue="${x(iconUrl(o, 32))}"/>
        <bt:Image id="Muster.Icon80" DefaultValue="${x(iconUrl(o, 80))}"/>
      </bt:Images>
      <bt:Urls>
        <bt:Url id="Muster.Commands.Url" DefaultValue="${x(o + ADDIN_PATHS.commands)}"/>
${urls}
      </bt:Urls>
      <bt:ShortStrings>
        <bt:String id="Muster.GroupLabel" DefaultValue="Muster"/>
${shortStrings}
      </bt:ShortStrings>
      <bt:LongStrings>
${longStrings}
      </bt:LongStrings>
    </Resources>
  </VersionOverrides>
</OfficeApp>
`;
}

/** The unified manifest (Microsoft 365 app manifest 1.30) as an alternative output; its icons are relative files packaged beside it. */
export function renderUnifiedManifest(opts: ManifestOptions): string {
  const m = parseManifestOptions(opts);
  const o = m.origin;
  const parts = m.version.split('.');
  const semver = [parts[0], parts[1] ?? '0', parts[2] ?? '0'].join('.');
  const icons = [16, 32, 80].map((size) => ({ size, url: iconUrl(o, size) }));
  const manifest = {
    $schema: 'https://developer.microsoft.com/json-schemas/teams/v1.30/MicrosoftTeams.schema.json',
    manifestVersion: '1.30',
    version: semver,
    id: m.appId,
    developer: { name: 'Muster', websiteUrl: `${o}/`, privacyUrl: `${o}/`, termsOfUseUrl: `${o}/` },
    name: { short: m.name, full: `${m.name} training coordination` },
    description: { short: 'Send training sessions from Outlook and keep their checklist moving.', full: DESCRIPTION },
    icons: { color: 'icon-192.png', outline: OUTLINE_ICON_FILE },
    accentColor: ACCENT_COLOR,
    validDomains: [new URL(o).host],
    extensions: [
      {
        requirements: { scopes: ['mail'], capabilities: [{ name: 'Mailbox', minVersion: MAILBOX_MIN_VERSION }] },
        runtimes: COMMAND_SURFACES.map((s) => ({
          id: `Muster.${s.surface}.Runtime`,
          type: 'general',
          code: { page: paneUrl(o, s.surface) },
          lifetime: 'short',
          actions: [{ id: `Muster.${s.surface}.Open`, type: 'openPage' }],
        })),
        ribbons: COMMAND_SURFACES.map((s) => ({
          contexts: [s.unifiedContext],
          tabs: [
            {
              builtInTabId: 'TabDefault',
              groups: [
                {
                  id: `Muster.${s.surface}.Group`,
                  label: 'Muster',
                  controls: [
                    {
                      id: `Muster.${s.surface}.Button`,
                      type: 'button',
                      label: LABELS[s.surface].label,
                      icons,
                      supertip: { title: LABELS[s.surface].title, description: LABELS[s.surface].description },
                      actionId: `Muster.${s.surface}.Open`,
                    },
                  ],
                },
              ],
            },
          ],
        })),
      },
    ],
  };
  return `${JSON.stringify(manifest, null, 2)}\n`;
}

export interface ManifestCliArgs extends ManifestOptions {
  out: string | null;
  format: 'xml' | 'json';
}

/** Parses `--host <url> --app-id <guid> [--name n] [--version v] [--out file] [--format xml|json]`. */
export function parseManifestArgs(argv: readonly string[]): ManifestCliArgs {
  const values = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i] as string;
    const eq = flag.indexOf('=');
    if (flag.startsWith('--') && eq > 0) {
      values.set(flag.slice(2, eq), flag.slice(eq + 1));
      continue;
    }
    const next = argv[i + 1];
    if (!flag.startsWith('--') || next === undefined) {
      throw new MusterError('VALIDATION_FAILED', `Unexpected argument "${flag}". Usage: --host <url> --app-id <guid> [--out file] [--format xml|json]`);
    }
    values.set(flag.slice(2), next);
    i += 1;
  }
  const known = new Set(['host', 'app-id', 'name', 'version', 'out', 'format']);
  for (const k of values.keys()) if (!known.has(k)) throw new MusterError('VALIDATION_FAILED', `Unknown option --${k}.`);
  const host = values.get('host');
  const appId = values.get('app-id');
  if (!host || !appId) throw new MusterError('VALIDATION_FAILED', 'Both --host and --app-id are required.');
  const format = values.get('format') ?? 'xml';
  if (format !== 'xml' && format !== 'json') throw new MusterError('VALIDATION_FAILED', '--format must be xml or json.');
  const args: ManifestCliArgs = { host, appId, out: values.get('out') ?? null, format };
  const name = values.get('name');
  const version = values.get('version');
  if (name !== undefined) args.name = name;
  if (version !== undefined) args.version = version;
  return args;
}

/** CLI entry: prints the manifest or writes it to --out. */
export function runManifestCli(argv: readonly string[]): number {
  try {
    const args = parseManifestArgs(argv);
    const text = args.format === 'json' ? renderUnifiedManifest(args) : renderXmlManifest(args);
    if (args.out) {
      writeFileSync(args.out, text, 'utf8');
      process.stderr.write(`Wrote ${args.format.toUpperCase()} manifest to ${args.out}\n`);
    } else {
      process.stdout.write(text);
    }
    return 0;
  } catch (err) {
    if (err instanceof MusterError) {
      process.stderr.write(`${err.message}\n${err.details.map((d) => `  ${d.field}: ${d.message}\n`).join('')}`);
      return 2;
    }
    throw err;
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = runManifestCli(process.argv.slice(2));
}
