// Builds an Outlook (host outlook) office-addin-mock whose compose item behaves like Outlook's callback API and records every call, for the pane's unit tests.
import { OfficeMockObject } from 'office-addin-mock';
import type { EmailAddressDetails, LocationIdentifier, OfficeAsyncResult, OfficeLike } from '../../src/addin/pane/office.js';

export interface RecordedCall {
  method: string;
  args: unknown[];
}

export interface MockState {
  subject: string;
  start: Date | null;
  end: Date | null;
  location: string;
  enhancedLocations: LocationIdentifier[];
  body: { html: string; coercionType: string } | null;
  requiredAttendees: EmailAddressDetails[];
  customProperties: Record<string, string>;
  savedCustomProperties: Record<string, string>;
}

export interface OutlookMock {
  office: OfficeLike;
  calls: RecordedCall[];
  state: MockState;
  /** Methods named here answer { status: 'failed' }. */
  failing: Set<string>;
}

export function createOutlookComposeMock(opts: { mailboxVersion?: string; existingAttendees?: EmailAddressDetails[] } = {}): OutlookMock {
  const calls: RecordedCall[] = [];
  const failing = new Set<string>();
  const state: MockState = {
    subject: '',
    start: null,
    end: null,
    location: '',
    enhancedLocations: [],
    body: null,
    requiredAttendees: [...(opts.existingAttendees ?? [])],
    customProperties: {},
    savedCustomProperties: {},
  };
  const supported = opts.mailboxVersion ?? '1.3';

  function answer<T>(method: string, args: unknown[], cb: (r: OfficeAsyncResult<T>) => void, value: T, apply: () => void): void {
    calls.push({ method, args });
    if (failing.has(method)) {
      cb({ status: 'failed', value: undefined as T, error: { name: 'GenericResponseError', message: `${method} failed`, code: 9020 } });
      return;
    }
    apply();
    cb({ status: 'succeeded', value });
  }

  const customProperties = {
    get: (name: string) => state.customProperties[name],
    set: (name: string, value: string) => {
      calls.push({ method: 'customProperties.set', args: [name, value] });
      state.customProperties[name] = value;
    },
    saveAsync: (cb: (r: OfficeAsyncResult<void>) => void) =>
      answer('customProperties.saveAsync', [], cb, undefined, () => {
        state.savedCustomProperties = { ...state.customProperties };
      }),
  };

  const itemData: Record<string, unknown> = {
    itemType: 'appointment',
    subject: {
      getAsync: (cb: (r: OfficeAsyncResult<string>) => void) => answer('subject.getAsync', [], cb, state.subject, () => undefined),
      setAsync: (v: string, cb: (r: OfficeAsyncResult<void>) => void) => answer('subject.setAsync', [v], cb, undefined, () => (state.subject = v)),
    },
    start: {
      setAsync: (v: Date, cb: (r: OfficeAsyncResult<void>) => void) => answer('start.setAsync', [v], cb, undefined, () => (state.start = v)),
    },
    end: {
      setAsync: (v: Date, cb: (r: OfficeAsyncResult<void>) => void) => answer('end.setAsync', [v], cb, undefined, () => (state.end = v)),
    },
    location: {
      setAsync: (v: string, cb: (r: OfficeAsyncResult<void>) => void) => answer('location.setAsync', [v], cb, undefined, () => (state.location = v)),
    },
    body: {
      setAsync: (v: string, o: { coercionType: string }, cb: (r: OfficeAsyncResult<void>) => void) =>
        answer('body.setAsync', [v, o], cb, undefined, () => (state.body = { html: v, coercionType: o.coercionType })),
    },
    requiredAttendees: {
      getAsync: (cb: (r: OfficeAsyncResult<EmailAddressDetails[]>) => void) =>
        answer('requiredAttendees.getAsync', [], cb, [...state.requiredAttendees], () => undefined),
      addAsync: (v: EmailAddressDetails[], cb: (r: OfficeAsyncResult<void>) => void) =>
        answer('requiredAttendees.addAsync', [v], cb, undefined, () => {
          if (v.length > 100) throw new Error('Outlook refuses more than 100 recipients per call');
          state.requiredAttendees.push(...v);
        }),
    },
    loadCustomPropertiesAsync: (cb: (r: OfficeAsyncResult<typeof customProperties>) => void) =>
      answer('loadCustomPropertiesAsync', [], cb, customProperties, () => undefined),
  };
  if (versionAtLeast(supported, '1.8')) {
    itemData.enhancedLocation = {
      addAsync: (v: LocationIdentifier[], cb: (r: OfficeAsyncResult<void>) => void) =>
        answer('enhancedLocation.addAsync', [v], cb, undefined, () => state.enhancedLocations.push(...v)),
    };
  }

  const mock = new OfficeMockObject(
    {
      host: 'outlook',
      context: {
        mailbox: { item: itemData, userProfile: { emailAddress: 'coordinator@contoso.example', displayName: 'Casey Coordinator' } },
        requirements: {
          isSetSupported: (name: string, min?: string) => name === 'Mailbox' && versionAtLeast(supported, min ?? '1.1'),
        },
      },
    },
    'outlook' as never,
  );
  return { office: mock as unknown as OfficeLike, calls, state, failing };
}

function versionAtLeast(have: string, want: string): boolean {
  const [a1 = 0, a2 = 0] = have.split('.').map(Number);
  const [b1 = 0, b2 = 0] = want.split('.').map(Number);
  return a1 > b1 || (a1 === b1 && a2 >= b2);
}
