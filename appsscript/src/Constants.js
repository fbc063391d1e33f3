// The add-on's fixed names in one place: the records tab and headers it reads (they must match src/domain/records.ts, a test checks), the one document property it keeps, and its limits; nothing here may depend on the deployment.

/** The records tab whose selected rows "mark attendance" reads. */
const TAB_ATTENDANCE = 'Attendance';
/** Headers of that tab the add-on looks up by name in its first row. */
const COL_SESSION_ID = 'Session ID';
const COL_EMAIL = 'Email';

/** The only document property the add-on keeps: which Muster program this Sheet belongs to. */
const PROGRAM_PROPERTY = 'musterProgramId';

/** What a coordinator may mark, in the order the sidebar offers them. */
const ATTENDANCE_VALUES = ['present', 'late', 'excused', 'absent'];

/** Most rows one "mark attendance" sends; larger selections are refused with a sentence, not truncated. */
const MAX_SELECTED_ROWS = 500;
/** Longest question text the sidebar sends. */
const MAX_QUESTION_LENGTH = 2000;
