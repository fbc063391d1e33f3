// The records workbook's tabs and headers, in one place: every records provider and the add-ons read these names from here.
import type { TabSpec } from '../ports/index.js';

export const TAB = {
  roster: 'Roster',
  sessions: 'Sessions',
  attendance: 'Attendance',
  completion: 'Completion',
  managers: 'Managers',
  questions: 'Questions',
  checklist: 'Checklist',
  messages: 'Messages',
} as const;

export type TabName = (typeof TAB)[keyof typeof TAB];

/** Header names used by code outside this file (add-ons, importers). */
export const COL = {
  key: 'Key',
  email: 'Email',
  name: 'Name',
  managerEmail: 'Manager Email',
  zone: 'Time Zone',
  department: 'Department',
  language: 'Language',
  session: 'Session',
  sessionId: 'Session ID',
  status: 'Status',
  rsvp: 'RSVP',
  attendance: 'Attendance',
  score: 'Score',
} as const;

export const TABS: Record<keyof typeof TAB, TabSpec> = {
  roster: {
    name: TAB.roster,
    headers: ['Key', 'Email', 'Name', 'Manager Email', 'Time Zone', 'Department', 'Language', 'Session', 'Status'],
    textColumns: ['Key', 'Email', 'Name', 'Manager Email', 'Time Zone', 'Department', 'Language', 'Session', 'Status'],
    dateColumns: [],
    editableColumns: ['Email', 'Name', 'Manager Email', 'Time Zone', 'Department', 'Language', 'Session'],
  },
  sessions: {
    name: TAB.sessions,
    headers: ['Key', 'Program', 'Session', 'Start', 'End', 'Time Zone', 'Room', 'Online Link', 'Instructors', 'Capacity', 'Enrolled', 'Waitlisted', 'Status'],
    textColumns: ['Key', 'Program', 'Session', 'Time Zone', 'Room', 'Online Link', 'Instructors', 'Status'],
    dateColumns: ['Start', 'End'],
    editableColumns: [],
  },
  attendance: {
    name: TAB.attendance,
    headers: ['Key', 'Session ID', 'Session', 'Date', 'Email', 'Name', 'Manager Email', 'RSVP', 'Attendance', 'Enrollment'],
    textColumns: ['Key', 'Session ID', 'Session', 'Email', 'Name', 'Manager Email', 'RSVP', 'Attendance', 'Enrollment'],
    dateColumns: ['Date'],
    editableColumns: ['Attendance'],
  },
  completion: {
    name: TAB.completion,
    headers: ['Key', 'Email', 'Name', 'Manager Email', 'Department', 'Status', 'Completed On', 'Due', 'Score', 'Expires'],
    textColumns: ['Key', 'Email', 'Name', 'Manager Email', 'Department', 'Status'],
    dateColumns: ['Completed On', 'Due', 'Expires'],
    editableColumns: ['Completed On', 'Score'],
  },
  managers: {
    name: TAB.managers,
    headers: ['Key', 'Manager Email', 'Learners', 'Enrolled', 'Attended', 'Completed', 'Overdue'],
    textColumns: ['Key', 'Manager Email'],
    dateColumns: [],
    editableColumns: [],
  },
  questions: {
    name: TAB.questions,
    headers: ['Key', 'Asked On', 'Learner Email', 'Question', 'Group', 'Learners Asking'],
    textColumns: ['Key', 'Learner Email', 'Question', 'Group'],
    dateColumns: ['Asked On'],
    editableColumns: [],
  },
  checklist: {
    name: TAB.checklist,
    headers: ['Key', 'Area', 'Status', 'Reason', 'Owner', 'Signed Off By', 'Note'],
    textColumns: ['Key', 'Area', 'Status', 'Reason', 'Owner', 'Signed Off By', 'Note'],
    dateColumns: [],
    editableColumns: [],
  },
  messages: {
    name: TAB.messages,
    headers: ['Key', 'Sent At', 'Learner Email', 'Kind', 'Subject', 'Provider', 'Outcome'],
    textColumns: ['Key', 'Learner Email', 'Kind', 'Subject', 'Provider', 'Outcome'],
    dateColumns: ['Sent At'],
    editableColumns: [],
  },
};

export const ALL_TABS: TabSpec[] = Object.values(TABS);
