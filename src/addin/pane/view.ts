// Drives the pane's page: fills its labelled sections from the API, runs the compose and read actions, and reports results in the live region; text from the service only ever goes in as textContent, and Office calls go through compose.ts.
import type { ApiClient, Attendance, ChecklistItem, SessionLearner, SessionState, SessionSummary } from './api.js';
import { PaneError } from './api.js';
import { applyInviteToAppointment, InviteRefusedError, readSessionIdProperty } from './compose.js';
import type { ConsoleTokenStore } from './auth.js';
import { describeChecklist, formatSessionTime, orderChecklist, plural, summarizeCounts, toQuestionFromMail, type QuestionFromMail } from './logic.js';
import { isComposeItem, type OfficeLike, type ReadItem } from './office.js';
import type { PaneSurface } from '../constants.js';

export interface PaneEnv {
  doc: Document;
  api: ApiClient;
  surface: PaneSurface;
  /** Present inside Outlook. */
  office?: OfficeLike;
  /** Present in the web console. */
  consoleAuth?: ConsoleTokenStore;
}

const ATTENDANCE: Attendance[] = ['present', 'late', 'excused', 'absent'];
const ATTENDANCE_LABEL: Record<Attendance, string> = { present: 'Present', late: 'Late', excused: 'Excused', absent: 'Absent' };
const STATUS_LABEL: Record<ChecklistItem['status'], string> = { blocking: 'Blocking', warning: 'Warning', ok: 'Done' };

function describeError(err: unknown): string {
  if (err instanceof InviteRefusedError || err instanceof PaneError) return err.message;
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}

export class PaneView {
  private readonly d: Document;
  private programId = '';
  private sessionId = '';
  private sessions: SessionSummary[] = [];
  private learners: SessionLearner[] = [];
  private question: QuestionFromMail | null = null;

  constructor(private readonly env: PaneEnv) {
    this.d = env.doc;
  }

  private el<T extends HTMLElement = HTMLElement>(id: string): T {
    const e = this.d.getElementById(id);
    if (!e) throw new Error(`The pane page lacks #${id}.`);
    return e as T;
  }

  private show(id: string, visible: boolean): void {
    this.el(id).hidden = !visible;
  }

  /** Announces a result politely; errors go to the assertive alert region. */
  announce(text: string): void {
    this.el('alert').textContent = '';
    this.el('status').textContent = text;
  }

  alert(err: unknown): void {
    this.el('status').textContent = '';
    this.el('alert').textContent = describeError(err);
    if (err instanceof PaneError && err.code === 'UNAUTHENTICATED' && this.env.consoleAuth) {
      this.env.consoleAuth.clear();
      this.showSignIn();
    }
  }

  /** Runs an action with its button disabled and the page marked busy. */
  private async busy(button: HTMLButtonElement | null, work: () => Promise<void>): Promise<void> {
    const main = this.el('main');
    main.setAttribute('aria-busy', 'true');
    if (button) button.disabled = true;
    try {
      await work();
    } catch (err) {
      this.alert(err);
    } finally {
      main.removeAttribute('aria-busy');
      if (button) button.disabled = false;
      this.updateButtons();
    }
  }

  async start(): Promise<void> {
    this.applyTheme();
    this.wire();
    if (this.env.consoleAuth && !this.env.consoleAuth.get()) {
      this.showSignIn();
      return;
    }
    await this.busy(null, () => this.afterSignIn());
  }

  private applyTheme(): void {
    const theme = this.env.office?.context.officeTheme;
    if (!theme) return;
    let dark = theme.isDarkTheme;
    if (dark === undefined && theme.bodyBackgroundColor) {
      const hex = theme.bodyBackgroundColor.replace('#', '');
      const [r, g, b] = [0, 2, 4].map((i) => parseInt(hex.slice(i, i + 2), 16) || 0) as [number, number, number];
      dark = 0.2126 * r + 0.7152 * g + 0.0722 * b < 128;
    }
    if (dark !== undefined) this.d.documentElement.dataset.theme = dark ? 'dark' : 'light';
  }

  private showSignIn(): void {
    this.show('signin', true);
    for (const id of ['pick', 'compose', 'state', 'checklist', 'actions', 'signout']) this.show(id, false);
    this.el('whoami').textContent = '';
    this.el<HTMLInputElement>('token').focus();
  }

  private wire(): void {
    this.el<HTMLFormElement>('signin-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      const input = this.el<HTMLInputElement>('token');
      const token = input.value.trim();
      if (!token || !this.env.consoleAuth) return;
      this.env.consoleAuth.set(token);
      input.value = '';
      void this.busy(null, async () => {
        await this.afterSignIn();
        this.el<HTMLSelectElement>('program').focus();
      });
    });
    this.el<HTMLButtonElement>('signout').addEventListener('click', () => {
      this.env.consoleAuth?.clear();
      this.announce('Signed out.');
      this.showSignIn();
    });
    this.el<HTMLSelectElement>('program').addEventListener('change', (ev) => {
      const id = (ev.target as HTMLSelectElement).value;
      void this.busy(null, () => this.selectProgram(id, null));
    });
    this.el<HTMLSelectElement>('session').addEventListener('change', (ev) => {
      const id = (ev.target as HTMLSelectElement).value;
      void this.busy(null, () => this.selectSession(id));
    });
    const fill = this.el<HTMLButtonElement>('fill');
    fill.addEventListener('click', () => void this.busy(fill, () => this.fillMeeting()));
    const remind = this.el<HTMLButtonElement>('remind');
    remind.addEventListener('click', () =>
      void this.busy(remind, async () => {
        const r = await this.env.api.sendRemindersNow(this.sessionId);
        this.announce(`Sent ${plural(r.sent, 'reminder')}${r.skipped ? `; ${r.skipped} skipped` : ''}.`);
      }),
    );
    const nudge = this.el<HTMLButtonElement>('nudge');
    nudge.addEventListener('click', () =>
      void this.busy(nudge, async () => {
        const r = await this.env.api.nudge(this.sessionId);
        this.announce(`Nudged ${plural(r.sent, 'learner')} who had not answered.`);
      }),
    );
    const question = this.el<HTMLButtonElement>('question');
    question.addEventListener('click', () =>
      void this.busy(question, async () => {
        if (!this.question) return;
        await this.env.api.logQuestion(this.programId, this.question.text, this.question.learnerEmail);
        this.announce(`Logged the question "${this.question.text}"${this.question.learnerEmail ? ` from ${this.question.learnerEmail}` : ''}.`);
      }),
    );
    const save = this.el<HTMLButtonElement>('save-attendance');
    this.el<HTMLFormElement>('attendance-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      void this.busy(save, () => this.saveAttendance());
    });
  }

  private async afterSignIn(): Promise<void> {
    const me = await this.env.api.whoami();
    this.show('signin', false);
    this.show('signout', !!this.env.consoleAuth);
    this.el('whoami').textContent = me.name || me.email ? `Signed in as ${me.name ?? me.email}` : 'Signed in';
    this.show('pick', true);
    const programs = await this.env.api.programs();
    const select = this.el<HTMLSelectElement>('program');
    select.replaceChildren(new Option(programs.length ? 'Choose a program' : 'No programs yet', ''));
    for (const p of programs) select.add(new Option(`${p.name} (${p.code})`, p.id));

    const item = this.env.office?.context.mailbox.item ?? null;
    let knownSessionId: string | null = null;
    if (item) {
      if (isComposeItem(item)) this.show('compose', true);
      else this.question = toQuestionFromMail(item as ReadItem);
      knownSessionId = await readSessionIdProperty(item).catch(() => null);
    }
    this.el('question').hidden = this.question === null;

    if (knownSessionId) {
      const state = await this.env.api.sessionState(knownSessionId);
      await this.selectProgram(state.session.programId, knownSessionId);
    } else if (programs.length === 1 && programs[0]) {
      await this.selectProgram(programs[0].id, null);
    }
    this.announce(programs.length ? `${plural(programs.length, 'program')} loaded.` : 'There are no programs yet.');
  }

  private async selectProgram(programId: string, sessionId: string | null): Promise<void> {
    this.programId = programId;
    this.sessionId = '';
    this.el<HTMLSelectElement>('program').value = programId;
    const sessionSelect = this.el<HTMLSelectElement>('session');
    sessionSelect.replaceChildren(new Option('Choose a session', ''));
    sessionSelect.disabled = !programId;
    this.show('state', false);
    this.show('actions', !!programId);
    if (!programId) {
      this.show('checklist', false);
      this.updateButtons();
      return;
    }
    const [sessions, checklist] = await Promise.all([this.env.api.sessions(programId), this.env.api.checklist(programId)]);
    this.sessions = sessions;
    for (const s of sessions) {
      const text = `${s.label} · ${formatSessionTime(s.start, s.zone)}${s.status === 'cancelled' ? ' (cancelled)' : ''}`;
      sessionSelect.add(new Option(text, s.id));
    }
    this.renderChecklist(checklist.items, checklist.blocking, checklist.warnings);
    if (sessionId) await this.selectSession(sessionId);
    else if (sessions.length === 1 && sessions[0]) await this.selectSession(sessions[0].id);
    this.updateButtons();
  }

  private renderChecklist(items: ChecklistItem[], blocking: number, warnings: number): void {
    this.show('checklist', true);
    this.el('checklist-summary').textContent = describeChecklist(blocking, warnings);
    const list = this.el('checklist-items');
    list.replaceChildren(
      ...orderChecklist(items).map((item) => {
        const li = this.d.createElement('li');
        li.className = `check check-${item.status}`;
        li.dataset.status = item.status;
        const badge = this.d.createElement('span');
        badge.className = 'badge';
        badge.textContent = STATUS_LABEL[item.status];
        const reason = this.d.createElement('span');
        reason.className = 'reason';
        reason.textContent = item.reason;
        li.append(badge, ' ', reason);
        if (item.owner) {
          const owner = this.d.createElement('span');
          owner.className = 'owner';
          owner.textContent = ` Owner: ${item.owner}`;
          li.append(owner);
        }
        if (item.signedOff) {
          const s = this.d.createElement('span');
          s.className = 'owner';
          s.textContent = ` Signed off by ${item.signedOff.by}`;
          li.append(s);
        }
        return li;
      }),
    );
  }

  private async selectSession(sessionId: string): Promise<void> {
    this.sessionId = sessionId;
    this.el<HTMLSelectElement>('session').value = sessionId;
    if (!sessionId) {
      this.show('state', false);
      this.updateButtons();
      return;
    }
    const state = await this.env.api.sessionState(sessionId);
    this.renderState(state);
    this.updateButtons();
  }

  private renderState(state: SessionState): void {
    this.show('state', true);
    const counts = this.el('counts');
    counts.replaceChildren(
      ...summarizeCounts(state.counts).flatMap(({ label, value }) => {
        const wrap = this.d.createElement('div');
        const dt = this.d.createElement('dt');
        dt.textContent = label;
        const dd = this.d.createElement('dd');
        dd.textContent = String(value);
        wrap.append(dt, dd);
        return [wrap];
      }),
    );
    this.learners = state.learners;
    const list = this.el('learners');
    list.replaceChildren(
      ...state.learners.map((l, i) => {
        const li = this.d.createElement('li');
        const id = `att-${i}`;
        const label = this.d.createElement('label');
        label.htmlFor = id;
        const name = this.d.createElement('span');
        name.className = 'name';
        name.textContent = l.name || l.email;
        const email = this.d.createElement('span');
        email.className = 'email';
        email.textContent = l.email;
        label.append(name, ' ', email);
        const meta = this.d.createElement('span');
        meta.className = 'meta';
        meta.textContent = `RSVP: ${l.rsvp === 'none' ? 'no response' : l.rsvp}${l.missingPrerequisites.length ? ` · Missing: ${l.missingPrerequisites.join(', ')}` : ''}`;
        const select = this.d.createElement('select');
        select.id = id;
        select.dataset.email = l.email;
        select.add(new Option('Not marked', ''));
        for (const a of ATTENDANCE) select.add(new Option(ATTENDANCE_LABEL[a], a));
        select.value = l.attendance ?? '';
        li.append(label, meta, select);
        if (l.missingPrerequisites.length) li.classList.add('missing');
        return li;
      }),
    );
    this.el('save-attendance').hidden = state.learners.length === 0;
  }

  private async saveAttendance(): Promise<void> {
    const selects = Array.from(this.el('learners').querySelectorAll<HTMLSelectElement>('select'));
    const before = new Map(this.learners.map((l) => [l.email, l.attendance ?? '']));
    const entries = selects
      .filter((s) => s.value !== '' && s.value !== before.get(s.dataset.email ?? ''))
      .map((s) => ({ email: s.dataset.email ?? '', attendance: s.value as Attendance }));
    if (entries.length === 0) {
      this.announce('No attendance changes to save.');
      return;
    }
    const r = await this.env.api.markAttendance(this.sessionId, entries);
    const state = await this.env.api.sessionState(this.sessionId);
    this.renderState(state);
    this.announce(`Saved attendance for ${plural(r.updated, 'learner')}.`);
  }

  private async fillMeeting(): Promise<void> {
    const item = this.env.office?.context.mailbox.item;
    if (!this.env.office || !isComposeItem(item)) throw new PaneError('VALIDATION_FAILED', 'Open a meeting you are organising to fill it in.');
    const invite = await this.env.api.invite(this.sessionId);
    const r = await applyInviteToAppointment(item, invite, this.env.office.context.requirements);
    this.announce(`Filled in the meeting with ${plural(r.attendeesAdded + r.attendeesAlreadyPresent, 'attendee')}. Check it and send it from Outlook.`);
  }

  private updateButtons(): void {
    const hasSession = this.sessionId !== '';
    this.el<HTMLButtonElement>('fill').disabled = !hasSession;
    this.el<HTMLButtonElement>('remind').disabled = !hasSession;
    this.el<HTMLButtonElement>('nudge').disabled = !hasSession;
    this.el<HTMLButtonElement>('question').disabled = this.programId === '' || this.question === null;
  }

  /** For tests and the console: the sessions currently listed. */
  listedSessions(): readonly SessionSummary[] {
    return this.sessions;
  }
}
