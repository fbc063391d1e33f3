// The add-on's entry points: the Extensions menu, the sidebar, and the server functions the sidebar calls through google.script.run; it stores only which program this Sheet belongs to (a document property) and nothing tenant-wide.

/** Builds the add-on menu; in AuthMode.NONE it offers only "Open Muster" and touches no properties or services. */
function onOpen(e) {
  const menu = SpreadsheetApp.getUi().createAddonMenu();
  menu.addItem('Open Muster', 'showSidebar');
  if (e && e.authMode !== ScriptApp.AuthMode.NONE) {
    menu.addSeparator();
    menu.addItem('Sync now', 'syncFromMenu');
  }
  menu.addToUi();
}

function onInstall(e) {
  onOpen(e);
}

/** Opens the sidebar. */
function showSidebar() {
  const template = HtmlService.createTemplateFromFile('Sidebar');
  template.serviceHost = serviceHost_();
  const page = template.evaluate().setTitle('Muster');
  SpreadsheetApp.getUi().showSidebar(page);
}

/** Inlines another HTML file into a template (styles and the sidebar's script). */
function include_(name) {
  return HtmlService.createHtmlOutputFromFile(name).getContent();
}

/** Menu item: sync and say what happened in a toast. */
function syncFromMenu() {
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  try {
    const result = syncNow();
    spreadsheet.toast(syncSentence_(result), 'Muster');
  } catch (err) {
    spreadsheet.toast(String(err && err.message), 'Muster could not sync');
  }
}

function syncSentence_(result) {
  return 'Wrote ' + result.written + ' rows and read ' + result.imported + ' changes' +
    (result.conflicts ? '; ' + result.conflicts + ' edits need a look in the sidebar' : '') + '.';
}

function storedProgramId_() {
  const id = PropertiesService.getDocumentProperties().getProperty(PROGRAM_PROPERTY);
  return id ? String(id) : null;
}

function requireProgramId_() {
  const id = storedProgramId_();
  if (!id) throw new Error('Choose which Muster program this Sheet belongs to first.');
  return id;
}

function toProgramSummary_(p) {
  return { id: String(p.id), name: String(p.name), code: p.code ? String(p.code) : '', status: String(p.status || ''), sessions: Number(p.sessions) || 0, learners: Number(p.learners) || 0 };
}

/** Sidebar start: which service, which program this Sheet belongs to, and the programs to choose from. */
function getSidebarState() {
  const programs = (musterRequest_('get', ['programs']) || []).map(toProgramSummary_);
  const programId = storedProgramId_();
  const current = programs.filter(function (p) { return p.id === programId; })[0] || null;
  return { serviceHost: serviceHost_(), programId: current ? current.id : null, programName: current ? current.name : null, storedProgramMissing: Boolean(programId && !current), programs: programs };
}

/** Records which program this Sheet belongs to, after checking the caller can see it. */
function chooseProgram(programId) {
  const id = String(programId || '');
  const programs = (musterRequest_('get', ['programs']) || []).map(toProgramSummary_);
  const chosen = programs.filter(function (p) { return p.id === id; })[0];
  if (!chosen) throw new Error('That program is not one you can use in Muster. Pick one from the list.');
  PropertiesService.getDocumentProperties().setProperty(PROGRAM_PROPERTY, chosen.id);
  return { programId: chosen.id, programName: chosen.name };
}

/** The program's launch checklist as Muster reports it ({ items, blocking, warnings }). */
function getChecklist() {
  const result = musterRequest_('get', ['programs', requireProgramId_(), 'checklist']) || {};
  const items = (result.items || []).map(function (item) {
    return {
      id: String(item.id),
      area: String(item.area || ''),
      status: String(item.status),
      reason: String(item.reason || ''),
      owner: item.owner ? String(item.owner) : null,
      signedOffBy: item.signedOff && item.signedOff.by ? String(item.signedOff.by) : null,
    };
  });
  return { items: items, blocking: Number(result.blocking) || 0, warnings: Number(result.warnings) || 0 };
}

/** Who would get which reminder if they were sent now; nothing is sent. */
function previewReminders() {
  const result = musterRequest_('post', ['programs', requireProgramId_(), 'reminders', 'preview'], {}) || {};
  const messages = (result.messages || []).map(function (m) {
    return { to: String(m.to), name: m.name ? String(m.name) : '', kind: String(m.kind || ''), subject: String(m.subject || ''), sendAt: m.sendAt ? String(m.sendAt) : '' };
  });
  return { messages: messages };
}

/** Sends the program's due reminders now (the sidebar only offers this after a preview). */
function sendRemindersNow() {
  const result = musterRequest_('post', ['programs', requireProgramId_(), 'reminders', 'send-now'], {}) || {};
  return { sent: Number(result.sent) || 0, skipped: Number(result.skipped) || 0 };
}

/** Marks the rows selected in the Attendance tab as present, late, excused or absent. */
function markSelectedAttendance(attendance) {
  const value = String(attendance || '');
  if (ATTENDANCE_VALUES.indexOf(value) < 0) throw new Error('Choose present, late, excused or absent.');
  const programId = requireProgramId_();
  const selection = readSelectedAttendanceRows_();
  const entries = selection.entries.map(function (e) { return { sessionId: e.sessionId, email: e.email, attendance: value }; });
  const result = musterRequest_('post', ['programs', programId, 'attendance'], { entries: entries }) || {};
  return { attendance: value, selected: entries.length, updated: Number(result.updated) || 0, skippedRows: selection.skippedRows };
}

/** Syncs the records Sheet with Muster now. */
function syncNow() {
  const result = musterRequest_('post', ['programs', requireProgramId_(), 'sync'], {}) || {};
  return { written: Number(result.written) || 0, imported: Number(result.imported) || 0, conflicts: Array.isArray(result.conflicts) ? result.conflicts.length : 0 };
}

/** The questions logged for the program, grouped as Muster groups them. */
function getQuestions() {
  const result = musterRequest_('get', ['programs', requireProgramId_(), 'questions']) || {};
  const groups = (result.groups || []).map(function (g) { return { key: String(g.key), text: String(g.text || ''), learners: Number(g.learners) || 0 }; });
  const questions = (result.questions || []).map(function (q) {
    return { id: String(q.id), text: String(q.text || ''), learnerEmail: q.learnerEmail ? String(q.learnerEmail) : null, createdAt: q.createdAt ? String(q.createdAt) : '' };
  });
  return { groups: groups, questions: questions };
}

/** Logs one question ({ text, learnerEmail? }) for the program. */
function logQuestion(form) {
  const text = String((form && form.text) || '').trim();
  const learnerEmail = String((form && form.learnerEmail) || '').trim();
  if (!text) throw new Error('Write the question first.');
  if (text.length > MAX_QUESTION_LENGTH) throw new Error('Keep the question under ' + MAX_QUESTION_LENGTH + ' characters.');
  const body = learnerEmail ? { text: text, learnerEmail: learnerEmail } : { text: text };
  const q = musterRequest_('post', ['programs', requireProgramId_(), 'questions'], body) || {};
  return { id: String(q.id || ''), text: String(q.text || text) };
}
