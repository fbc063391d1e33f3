// Renders the add-in's HTML pages (task pane and web console, function file, sign-in dialog) with no inline script, so the pane's strict Content-Security-Policy holds; it loads office.js only for Office surfaces.
import { ADDIN_PATHS, OFFICE_JS_URL } from './constants.js';

function escapeAttr(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function head(title: string, opts: { entraClientId?: string | undefined; officeJs: boolean; script: string }): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="muster-entra-client-id" content="${escapeAttr(opts.entraClientId ?? '')}">
<title>${title}</title>
<link rel="stylesheet" href="${ADDIN_PATHS.base}/pane.css">
${opts.officeJs ? `<script src="${OFFICE_JS_URL}"></script>\n` : ''}<script type="module" src="${ADDIN_PATHS.base}/${opts.script}"></script>
</head>`;
}

/** The task pane; in a plain browser (no Office surface) it is the coordinator web console. */
export function renderPaneHtml(opts: { entraClientId?: string | undefined; inOffice: boolean }): string {
  return `${head('Muster', { entraClientId: opts.entraClientId, officeJs: opts.inOffice, script: 'pane.js' })}
<body>
<header class="bar">
  <h1>Muster</h1>
  <p id="whoami" class="who"></p>
</header>
<main id="main">
  <section id="signin" class="card" aria-labelledby="signin-h" hidden>
    <h2 id="signin-h">Sign in</h2>
    <form id="signin-form">
      <label for="token">API token</label>
      <input id="token" name="token" type="password" autocomplete="off" spellcheck="false" required aria-describedby="token-help">
      <p id="token-help" class="hint">Paste this install's API token (the file <code>api-token</code> in Muster's data directory). It is kept only in this browser tab.</p>
      <button type="submit">Sign in</button>
    </form>
  </section>

  <section id="pick" class="card" aria-labelledby="pick-h" hidden>
    <h2 id="pick-h">Choose what to work on</h2>
    <label for="program">Program</label>
    <select id="program" name="program"><option value="">Choose a program</option></select>
    <label for="session">Session</label>
    <select id="session" name="session" disabled><option value="">Choose a session</option></select>
  </section>

  <section id="compose" class="card" aria-labelledby="compose-h" hidden>
    <h2 id="compose-h">This meeting</h2>
    <p class="hint">Fills in the subject, times, location, agenda and the session's learners. You send the meeting from Outlook.</p>
    <button id="fill" type="button" disabled>Fill in this meeting</button>
  </section>

  <section id="actions" class="card" aria-labelledby="actions-h" hidden>
    <h2 id="actions-h">Actions</h2>
    <div class="buttons">
      <button id="remind" type="button" disabled>Send reminder now</button>
      <button id="nudge" type="button" disabled>Nudge non-responders</button>
      <button id="question" type="button" hidden disabled>Log question from this mail</button>
    </div>
  </section>

  <section id="state" class="card" aria-labelledby="state-h" hidden>
    <h2 id="state-h">Responses and attendance</h2>
    <dl id="counts" class="counts"></dl>
    <form id="attendance-form">
      <fieldset>
        <legend>Mark attendance</legend>
        <ul id="learners" class="learners"></ul>
      </fieldset>
      <button id="save-attendance" type="submit">Save attendance</button>
    </form>
  </section>

  <section id="checklist" class="card" aria-labelledby="checklist-h" hidden>
    <h2 id="checklist-h">Launch checklist</h2>
    <p id="checklist-summary"></p>
    <ul id="checklist-items" class="checklist"></ul>
  </section>

  <p><button id="signout" type="button" class="link" hidden>Sign out</button></p>
</main>
<div id="status" class="status" role="status" aria-live="polite"></div>
<div id="alert" class="alert" role="alert"></div>
</body>
</html>
`;
}

/** The function file the manifest names (Outlook loads it for add-in commands; the buttons only open the pane). */
export function renderCommandsHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Muster commands</title>
<script src="${OFFICE_JS_URL}"></script>
</head><body></body></html>
`;
}

/** The Office dialog sign-in page used where nested app authentication is missing. */
export function renderAuthDialogHtml(opts: { entraClientId?: string | undefined }): string {
  return `${head('Muster sign-in', { entraClientId: opts.entraClientId, officeJs: true, script: 'auth-dialog.js' })}
<body>
<main class="card"><h1>Muster sign-in</h1><p id="dialog-status" role="status" aria-live="polite">Signing in…</p></main>
</body>
</html>
`;
}
