// Reads the rows a coordinator selected in the Attendance tab into { sessionId, email } entries by the header names in its first row; it only reads the active Sheet and never writes to it.

/** Returns { entries: [{ row, sessionId, email }], skippedRows: [row] } for the selected rows, or throws a sentence. */
function readSelectedAttendanceRows_() {
  const spreadsheet = SpreadsheetApp.getActiveSpreadsheet();
  const sheet = spreadsheet.getActiveSheet();
  if (!sheet || sheet.getName() !== TAB_ATTENDANCE) {
    throw new Error('Select the learners\' rows in the ' + TAB_ATTENDANCE + ' tab first.');
  }
  const rangeList = spreadsheet.getActiveRangeList();
  const active = spreadsheet.getActiveRange();
  const ranges = rangeList ? rangeList.getRanges() : active ? [active] : [];
  const lastRow = sheet.getLastRow();
  const lastColumn = sheet.getLastColumn();
  if (ranges.length === 0 || lastRow < 2 || lastColumn < 1) {
    throw new Error('Select the learners\' rows in the ' + TAB_ATTENDANCE + ' tab first.');
  }

  const headers = sheet.getRange(1, 1, 1, lastColumn).getDisplayValues()[0].map(function (h) { return String(h).trim(); });
  const sessionColumn = headers.indexOf(COL_SESSION_ID);
  const emailColumn = headers.indexOf(COL_EMAIL);
  if (sessionColumn < 0 || emailColumn < 0) {
    throw new Error('The ' + TAB_ATTENDANCE + ' tab needs "' + COL_SESSION_ID + '" and "' + COL_EMAIL + '" in its first row. Run "Sync now" to restore the headers.');
  }

  const seen = {};
  const entries = [];
  const skippedRows = [];
  ranges.forEach(function (range) {
    const first = Math.max(range.getRow(), 2);
    const last = Math.min(range.getLastRow(), lastRow);
    if (last < first) return;
    const rows = sheet.getRange(first, 1, last - first + 1, lastColumn).getDisplayValues();
    rows.forEach(function (cells, i) {
      const rowNumber = first + i;
      if (seen[rowNumber]) return;
      seen[rowNumber] = true;
      const sessionId = String(cells[sessionColumn]).trim();
      const email = String(cells[emailColumn]).trim();
      if (!sessionId && !email) return;
      if (!sessionId || !email) {
        skippedRows.push(rowNumber);
        return;
      }
      entries.push({ row: rowNumber, sessionId: sessionId, email: email });
    });
  });

  if (entries.length === 0) {
    throw new Error('The selected rows hold no learners. Select rows below the header in the ' + TAB_ATTENDANCE + ' tab.');
  }
  if (entries.length > MAX_SELECTED_ROWS) {
    throw new Error('That is ' + entries.length + ' rows; mark at most ' + MAX_SELECTED_ROWS + ' at a time.');
  }
  return { entries: entries, skippedRows: skippedRows };
}
