// Muster's domain vocabulary: plain data for programs, sessions, learners and their records; no I/O and no vendor words.

export type TenantId = string;
export type Surface = 'api' | 'cli' | 'outlook' | 'sheets' | 'console' | 'system' | 'rsvp';

export type MaterialKind = 'material' | 'prerequisite' | 'access';

export interface Material {
  title: string;
  kind: MaterialKind;
  link: string | null;
  owner: string | null;
  /** ISO date (yyyy-mm-dd) of the last review, or null if never reviewed. */
  lastReviewed: string | null;
}

/** Who answers for the things that go wrong after launch. */
export interface ProgramOwners {
  missedSessions: string | null;
  lateCompletions: string | null;
  questions: string | null;
  improvements: string | null;
}

export interface QuietHours {
  /** Local "HH:mm" in the learner's zone when quiet hours begin (inclusive). */
  start: string;
  /** Local "HH:mm" when quiet hours end (exclusive). */
  end: string;
}

export interface ReminderPolicy {
  /** Minutes before a session's start; whole days count in the session's zone (same local time). */
  offsetsMinutes: number[];
  /** Minutes before the first session to remind about prerequisites; null for none. */
  prerequisiteMinutes: number | null;
  /** Minutes after a session ends to send the follow-up; null for none. */
  followUpMinutes: number | null;
  /** Days after the learner's last session by which completion is due; null for none. */
  completionDueDays: number | null;
  /** Days past the due date before the manager is told; 0 means on the due date. */
  escalateAfterDays: number;
  /** Days a completion stays valid; null for no recertification. */
  recertifyAfterDays: number | null;
  /** Days before expiry to remind about recertification. */
  recertifyNoticeDays: number;
  /** Weekly manager digest: ISO weekday (1 = Monday) and local hour in the manager's zone; null for none. */
  digest: { weekday: number; hour: number } | null;
  quietHours: QuietHours | null;
}

export interface Program {
  id: string;
  tenantId: TenantId;
  /** Canonical name: every subject, tab and material title derives from it. */
  name: string;
  /** Short code, e.g. "SEC101". */
  code: string;
  owner: string;
  audience: string;
  agenda: string;
  materials: Material[];
  /** Days within which a material's review counts as current. */
  reviewWindowDays: number;
  assessmentName: string | null;
  policy: ReminderPolicy;
  owners: ProgramOwners;
  /** Manager views show assessment scores only when this is true. */
  showScoresToManagers: boolean;
  enrollmentPath: string | null;
  /**
   * The program's own records file (a Google spreadsheet id, or an Excel workbook item id / driveId/itemId); null or
   * absent uses the configured one, which holds one program only.
   */
  recordsSheet?: string | null;
  rosterApproved: boolean;
  status: 'draft' | 'launched' | 'archived';
  /** The template this program was cloned from, if any. */
  clonedFrom: string | null;
  createdAt: string;
}

export type SessionStatus = 'scheduled' | 'cancelled';

export interface Session {
  id: string;
  tenantId: TenantId;
  programId: string;
  /** Free label such as "Cohort A, day 1"; subjects still derive from the program's name. */
  label: string;
  /** UTC instant, ISO 8601. */
  start: string;
  /** UTC instant, ISO 8601. */
  end: string;
  /** IANA zone the session is held in, e.g. "Europe/Berlin". */
  zone: string;
  room: string | null;
  /** Room's resource mailbox for calendar providers that book rooms. */
  roomEmail: string | null;
  onlineUrl: string | null;
  backupPlan: string | null;
  instructors: string[];
  capacity: number;
  status: SessionStatus;
  /** Raised when a cancelled session is scheduled again: a new calendar event is created. */
  generation: number;
  /** Raised on every change that learners' calendars must see (RFC 5545 SEQUENCE). */
  sequence: number;
}

export interface Learner {
  id: string;
  tenantId: TenantId;
  email: string;
  name: string;
  managerEmail: string | null;
  zone: string;
  department: string | null;
  language: string;
  undeliverable: boolean;
}

export type EnrollmentStatus = 'enrolled' | 'waitlisted' | 'cancelled';
export type Rsvp = 'none' | 'accepted' | 'tentative' | 'declined';
export type Attendance = 'present' | 'late' | 'excused' | 'absent';

export interface Enrollment {
  id: string;
  tenantId: TenantId;
  programId: string;
  sessionId: string;
  learnerId: string;
  status: EnrollmentStatus;
  /** Order on the waitlist (lower goes first); null when not waitlisted. */
  waitPosition: number | null;
  rsvp: Rsvp;
  attendance: Attendance | null;
  enrolledAt: string;
}

export interface Completion {
  tenantId: TenantId;
  programId: string;
  learnerId: string;
  completedAt: string | null;
  score: number | null;
  dueAt: string | null;
}

export type CheckStatus = 'ok' | 'warning' | 'blocking';

export interface ChecklistItem {
  id: string;
  area: 'roster' | 'sessions' | 'materials' | 'schedule' | 'owners' | 'naming' | 'sending' | 'provider';
  status: CheckStatus;
  /** The reason in a coordinator's words. */
  reason: string;
  owner: string | null;
  signedOff: { by: string; note: string; at: string } | null;
}

export interface Question {
  id: string;
  tenantId: TenantId;
  programId: string;
  learnerEmail: string | null;
  text: string;
  createdAt: string;
}

export interface ImprovementNote {
  id: string;
  tenantId: TenantId;
  programId: string;
  /** Stable key of the question group that raised it. */
  groupKey: string;
  text: string;
  owner: string | null;
  status: 'open' | 'closed';
  learners: number;
  createdAt: string;
}
