// The small slice of Office.js (Outlook) the pane uses, typed here, and promise wrappers over its callback APIs; it never touches the DOM and never assumes Office is present.

export interface OfficeAsyncError {
  name?: string;
  message: string;
  code?: number;
}

export interface OfficeAsyncResult<T> {
  status: 'succeeded' | 'failed';
  value: T;
  error?: OfficeAsyncError;
}

export type OfficeCallback<T> = (result: OfficeAsyncResult<T>) => void;

export interface EmailAddressDetails {
  emailAddress: string;
  displayName?: string;
}

export interface ComposeText {
  getAsync(callback: OfficeCallback<string>): void;
  setAsync(value: string, callback: OfficeCallback<void>): void;
}

export interface ComposeTime {
  getAsync(callback: OfficeCallback<Date>): void;
  setAsync(value: Date, callback: OfficeCallback<void>): void;
}

export interface ComposeBody {
  setAsync(value: string, options: { coercionType: 'html' | 'text' }, callback: OfficeCallback<void>): void;
}

export interface ComposeRecipients {
  getAsync(callback: OfficeCallback<EmailAddressDetails[]>): void;
  addAsync(recipients: EmailAddressDetails[], callback: OfficeCallback<void>): void;
}

export interface LocationIdentifier {
  id: string;
  type: 'custom' | 'room';
}

export interface EnhancedLocation {
  addAsync(locations: LocationIdentifier[], callback: OfficeCallback<void>): void;
}

export interface CustomProperties {
  get(name: string): unknown;
  set(name: string, value: string): void;
  saveAsync(callback: OfficeCallback<void>): void;
}

/** An item in compose mode (the organizer's appointment). */
export interface ComposeAppointment {
  itemType: 'appointment' | 'message';
  subject: ComposeText;
  start: ComposeTime;
  end: ComposeTime;
  location: ComposeText;
  enhancedLocation?: EnhancedLocation;
  body: ComposeBody;
  requiredAttendees: ComposeRecipients;
  loadCustomPropertiesAsync(callback: OfficeCallback<CustomProperties>): void;
}

/** An item in read mode (a received message, or a meeting the user attends or organised). */
export interface ReadItem {
  itemType: 'appointment' | 'message';
  subject: string;
  from?: EmailAddressDetails | null;
  organizer?: EmailAddressDetails | null;
  start?: Date;
  loadCustomPropertiesAsync(callback: OfficeCallback<CustomProperties>): void;
}

export interface MailboxLike {
  item: ComposeAppointment | ReadItem | null;
  userProfile?: { emailAddress: string; displayName: string };
}

export interface DialogLike {
  addEventHandler(type: string, handler: (arg: { message?: string; origin?: string; error?: number }) => void): void;
  close(): void;
}

export interface OfficeLike {
  context: {
    mailbox: MailboxLike;
    requirements: { isSetSupported(name: string, minVersion?: string): boolean };
    officeTheme?: { bodyBackgroundColor?: string; bodyForegroundColor?: string; isDarkTheme?: boolean };
    ui?: {
      displayDialogAsync(url: string, options: { height: number; width: number; promptBeforeOpen?: boolean }, callback: OfficeCallback<DialogLike>): void;
      messageParent?(message: string): void;
    };
  };
  onReady?(callback?: (info: { host: string | null; platform: string | null }) => void): Promise<{ host: string | null; platform: string | null }>;
  EventType?: { DialogMessageReceived: string; DialogEventReceived: string };
}

/** A failure reported by Office.js, carrying its error name (never a bare string). */
export class OfficeCallError extends Error {
  readonly officeName: string | undefined;
  readonly officeCode: number | undefined;
  constructor(operation: string, error: OfficeAsyncError | undefined) {
    super(`Outlook could not ${operation}: ${error?.message ?? 'no reason given'}.`);
    this.name = 'OfficeCallError';
    this.officeName = error?.name;
    this.officeCode = error?.code;
  }
}

/** Runs one callback-style Office.js call as a promise; `operation` names it in the error sentence. */
export function callOffice<T>(operation: string, invoke: (callback: OfficeCallback<T>) => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    try {
      invoke((result) => {
        if (result.status === 'succeeded') resolve(result.value);
        else reject(new OfficeCallError(operation, result.error));
      });
    } catch (err) {
      reject(err instanceof Error ? err : new OfficeCallError(operation, { message: String(err) }));
    }
  });
}

/** Compose items expose async accessors; read items plain strings. */
export function isComposeItem(item: ComposeAppointment | ReadItem | null | undefined): item is ComposeAppointment {
  return !!item && typeof item.subject === 'object' && item.subject !== null && typeof (item.subject as ComposeText).setAsync === 'function';
}
