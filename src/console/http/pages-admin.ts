/**
 * The admin pages (pure): the running configuration with its secrets
 * redacted, the queue (state counts, the newest messages with their
 * recipient states and last reply, hold / release / delete forms), and the
 * console users (list, disable, reset the code secret, add one; a new
 * otpauth URI shown once). No subjects and no message content anywhere;
 * every value from outside is escaped.
 */
import { stringify } from 'yaml';
import { redactConfig } from '../../config/load.js';
import { ACTION_APPLIES_TO, RECIPIENT_STATES, type RecipientState } from '../../queue/states.js';
import { sanitizeLine } from '../../portal/notification.js';
import { CONSOLE_ROLES, type ConsoleRole } from '../users.js';
import { e } from './layout.js';
import { when } from './pages-archive.js';

const REDACTED = '[redacted]';
const iso = (ms: number): string => when(new Date(ms).toISOString());

/**
 * Pure: a copy of the configuration safe to show: the values of keys that
 * name secrets (password, secret, token, passphrase: redactConfig, as
 * `sealgate config check`) and any text that holds key or certificate
 * material (PEM) or an otpauth URI are replaced. Paths stay: they say where
 * a secret is, not what it is.
 */
export function redactForDisplay(config: unknown): unknown {
  const scrub = (v: unknown): unknown => {
    if (typeof v === 'string') return /-----BEGIN [A-Z0-9 ]+-----|otpauth:\/\//i.test(v) ? REDACTED : v;
    if (Array.isArray(v)) return v.map(scrub);
    if (v !== null && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, scrub(x)]));
    return v;
  };
  return scrub(redactConfig(config));
}

export function configPage(config: unknown, source: string | undefined): { title: string; main: string } {
  return {
    title: 'Configuration',
    main: [
      '<h1>Configuration</h1>',
      `<p>The configuration the gateway runs with${source ? ` (${e(source)})` : ''}, defaults filled in, as YAML. Secrets are shown as <code>${REDACTED}</code>; files that hold keys and passwords are named by their path only. The same as <code>sealgate config check</code>; change it in the file and reload (SIGHUP).</p>`,
      `<section class="card" aria-label="Running configuration"><pre class="content">${e(stringify(redactForDisplay(config)))}</pre></section>`,
    ].join(''),
  };
}

/** One queued message as the queue page lists it: no sender, no subject. */
export interface QueueRow {
  readonly id: string;
  readonly createdAt: number;
  readonly size: number;
  readonly recipients: number;
  readonly states: Readonly<Partial<Record<RecipientState, number>>>;
  /** The newest attempt's reply (code, enhanced code, text), if there was one. */
  readonly lastReason: string | null;
}

export type QueueDone = { readonly action: 'hold' | 'release' | 'delete'; readonly id: string; readonly changed: number } | { readonly problem: string };

const DONE_VERB = { hold: 'Held', release: 'Released', delete: 'Deleted' } as const;

function actionForm(id: string, action: 'hold' | 'release' | 'delete', csrf: string): string {
  const label = { hold: 'Hold', release: 'Release', delete: 'Delete' }[action];
  return `<form class="inline" method="post" action="/admin/queue/${e(id)}/${action}"><input type="hidden" name="csrf" value="${e(csrf)}"><button type="submit" aria-label="${label} ${e(id)}">${label}</button></form>`;
}

/** Pure: the actions a message's recipient states allow (hold: some queued or deferred; release: some held; delete: none in flight). */
export function queueActions(states: Readonly<Partial<Record<RecipientState, number>>>): ('hold' | 'release' | 'delete')[] {
  const has = (list: readonly RecipientState[]): boolean => list.some((s) => (states[s] ?? 0) > 0);
  const out: ('hold' | 'release' | 'delete')[] = [];
  if (has(ACTION_APPLIES_TO.hold)) out.push('hold');
  if (has(ACTION_APPLIES_TO.release)) out.push('release');
  if (!has(['in-flight'])) out.push('delete');
  return out;
}

/** Delete asks once more: it removes the message from the spool for good (no bounce, no undo). */
export function confirmDeletePage(id: string, csrf: string): { title: string; main: string } {
  return {
    title: `Delete ${id}?`,
    main: [
      '<p><a href="/admin/queue">Back to the queue</a></p>',
      `<h1>Delete <span class="id">${e(id)}</span>?</h1>`,
      '<div class="card narrow">',
      '<p>The message leaves the queue and the spool for good: it is not delivered and the sender gets no bounce. Its archive entry stays and records the recipients as deleted.</p>',
      `<form method="post" action="/admin/queue/${e(id)}/delete"><input type="hidden" name="csrf" value="${e(csrf)}"><input type="hidden" name="confirm" value="yes"><button type="submit">Delete the message</button></form>`,
      '<p><a href="/admin/queue">Keep it</a></p>',
      '</div>',
    ].join(''),
  };
}

export function queuePage(v: { counts: Readonly<Partial<Record<RecipientState, number>>>; messages: number; bytes: number; rows: readonly QueueRow[]; limit: number; csrf: string; done?: QueueDone | undefined }): { title: string; main: string } {
  const notice = v.done
    ? 'problem' in v.done
      ? `<div class="alert" role="alert"><p>${e(v.done.problem)}</p></div>`
      : `<div class="note" role="status"><p>${DONE_VERB[v.done.action]} ${e(v.done.id)}: ${v.done.changed} recipient${v.done.changed === 1 ? '' : 's'}. Recorded in the audit log with your name.</p></div>`
    : '';
  const counts = RECIPIENT_STATES.map((s) => `<tr><th scope="row">${s}</th><td>${v.counts[s] ?? 0}</td></tr>`).join('');
  const rows = v.rows.map((r) => {
    const states = RECIPIENT_STATES.filter((s) => r.states[s]).map((s) => `${s} ${r.states[s] ?? 0}`).join(', ');
    return [
      '<tr>',
      `<td class="id">${e(r.id)}</td>`,
      // the actions next to the id: on a phone the table scrolls, and the buttons stay in view
      `<td class="actions">${queueActions(r.states).map((a) => actionForm(r.id, a, v.csrf)).join(' ')}</td>`,
      `<td>${e(iso(r.createdAt))}</td>`,
      `<td>${r.recipients}</td>`,
      `<td>${e(states)}</td>`,
      `<td>${r.lastReason ? e(sanitizeLine(r.lastReason, 200)) : '-'}</td>`,
      '</tr>',
    ].join('');
  });
  const table = v.rows.length
    ? `<div class="table-box" role="region" tabindex="0" aria-labelledby="queue-caption"><table class="data"><caption id="queue-caption">The newest ${v.rows.length} of ${v.messages} messages${v.rows.length >= v.limit ? ` (sealgate queue list shows all)` : ''}</caption><thead><tr><th scope="col">Queue id</th><th scope="col">Actions</th><th scope="col">Queued (UTC)</th><th scope="col">Recipients</th><th scope="col">States</th><th scope="col">Last reason</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`
    : '<p role="status">The queue is empty.</p>';
  return {
    title: 'Queue',
    main: [
      '<h1>Queue</h1>',
      '<p>Messages waiting for delivery. <strong>Hold</strong> stops attempts for queued and deferred recipients; <strong>Release</strong> returns held recipients to the queue, due now; <strong>Delete</strong> (after a confirmation) removes the message from the queue and the spool without a bounce (its archive entry stays and records the recipients as deleted). Each action is recorded in the audit log with your name, as <code>sealgate queue</code> does.</p>',
      notice,
      '<div class="table-box" role="region" tabindex="0" aria-labelledby="counts-caption">',
      `<table class="data"><caption id="counts-caption">Recipients by state (${v.messages} messages, ${v.bytes} bytes)</caption><thead><tr><th scope="col">State</th><th scope="col">Recipients</th></tr></thead><tbody>${counts}</tbody></table>`,
      '</div>',
      table,
    ].join(''),
  };
}

export interface UserRow {
  readonly name: string;
  readonly role: ConsoleRole;
  readonly disabled: boolean;
  /** A code from the current secret was used at least once. */
  readonly mfaUsed: boolean;
  readonly lastSignInAt: number | null;
  readonly lockedUntil: number;
}

export type UsersNotice =
  | { readonly kind: 'enrolled'; readonly name: string; readonly uri: string; readonly added: boolean }
  | { readonly kind: 'disabled'; readonly name: string }
  | { readonly kind: 'problem'; readonly text: string };

function noticeHtml(n: UsersNotice | undefined): string {
  if (!n) return '';
  if (n.kind === 'problem') return `<div class="alert" role="alert"><p>${e(n.text)}</p></div>`;
  if (n.kind === 'disabled') return `<div class="note" role="status"><p>${e(n.name)} is disabled: they cannot sign in, and their sessions ended.</p></div>`;
  return [
    '<section class="card" aria-labelledby="uri-h">',
    `<h2 id="uri-h">${n.added ? `${e(n.name)} was added` : `New code secret for ${e(n.name)}`}</h2>`,
    '<p role="status">Give this to the user to import into their authenticator app. It is shown <strong>only now</strong>: it is not stored readable and cannot be shown again (Reset MFA makes a new one).</p>',
    `<p><code class="uri">${e(n.uri)}</code></p>`,
    '</section>',
  ].join('');
}

export function usersPage(v: { users: readonly UserRow[]; self: string; csrf: string; now: number; notice?: UsersNotice | undefined; form?: { name?: string; role?: string } | undefined }): { title: string; main: string } {
  const rows = v.users.map((u) => {
    const status = u.disabled ? 'disabled' : u.lockedUntil > v.now ? `locked until ${iso(u.lockedUntil)}` : 'active';
    const actions = [
      !u.disabled && u.name !== v.self
        ? `<form class="inline" method="post" action="/admin/users/${encodeURIComponent(u.name)}/disable"><input type="hidden" name="csrf" value="${e(v.csrf)}"><button type="submit" aria-label="Disable ${e(u.name)}">Disable</button></form>`
        : '',
      `<form class="inline" method="post" action="/admin/users/${encodeURIComponent(u.name)}/reset-mfa"><input type="hidden" name="csrf" value="${e(v.csrf)}"><button type="submit" aria-label="Reset MFA of ${e(u.name)}">Reset MFA</button></form>`,
    ].join(' ');
    return `<tr><th scope="row">${e(u.name)}${u.name === v.self ? ' <span class="muted">(you)</span>' : ''}</th><td class="actions">${actions}</td><td>${e(u.role)}</td><td>${e(status)}</td><td>${u.mfaUsed ? 'set, in use' : 'set, not used yet'}</td><td>${u.lastSignInAt ? e(iso(u.lastSignInAt)) : 'never'}</td></tr>`;
  });
  // least privilege unless chosen: the list would otherwise start at admin
  const chosen = v.form?.role ?? 'auditor';
  const roles = CONSOLE_ROLES.map((r) => `<option value="${r}"${chosen === r ? ' selected' : ''}>${r}</option>`).join('');
  return {
    title: 'Console users',
    main: [
      '<h1>Console users</h1>',
      '<p>Who may sign in to this console, as <code>sealgate console-users</code> manages them. Disabling a user or resetting their code secret ends their sessions at once. Every change is recorded in the audit log with your name.</p>',
      noticeHtml(v.notice),
      '<div class="table-box" role="region" tabindex="0" aria-labelledby="users-caption">',
      `<table class="data"><caption id="users-caption">${v.users.length} console ${v.users.length === 1 ? 'user' : 'users'}</caption><thead><tr><th scope="col">Name</th><th scope="col">Actions</th><th scope="col">Role</th><th scope="col">Status</th><th scope="col">MFA</th><th scope="col">Last sign-in (UTC)</th></tr></thead><tbody>${rows.join('')}</tbody></table>`,
      '</div>',
      '<form method="post" action="/admin/users" class="card">',
      '<h2>Add a user</h2>',
      `<input type="hidden" name="csrf" value="${e(v.csrf)}">`,
      '<label for="new-name">Name</label>',
      '<span class="hint" id="new-name-hint">1 to 64 letters, digits and . _ @ + -</span>',
      `<input class="field" type="text" id="new-name" name="name" maxlength="64" autocomplete="off" autocapitalize="none" spellcheck="false" required aria-describedby="new-name-hint" value="${e(v.form?.name ?? '')}">`,
      '<label for="new-role">Role</label>',
      `<select class="field" id="new-role" name="role">${roles}</select>`,
      '<label for="new-password">Initial password</label>',
      '<span class="hint" id="new-password-hint">12 to 1024 characters; give it to the user by another channel than the code secret</span>',
      '<input class="field" type="password" id="new-password" name="password" minlength="12" maxlength="1024" autocomplete="new-password" required aria-describedby="new-password-hint">',
      '<button type="submit">Add user</button>',
      '</form>',
    ].join(''),
  };
}
