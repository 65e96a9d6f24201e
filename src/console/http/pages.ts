/**
 * The console's pages outside the archive (pure): sign-in, home, errors.
 * Every value from outside is escaped; no script anywhere.
 */
import { e, type Viewer } from './layout.js';
import { mayReadArchive } from './layout.js';

export type ErrorStatus = 400 | 403 | 404 | 405 | 413 | 429 | 500 | 503;

const ERROR_TEXT: Record<ErrorStatus, { title: string; text: string }> = {
  400: { title: 'Bad request', text: 'The request could not be understood. Go back and try again.' },
  403: { title: 'Not allowed', text: 'Your role does not allow this, or the form had expired. Go back, reload the page and try again.' },
  404: { title: 'Not found', text: 'There is no such page or archive entry.' },
  405: { title: 'Not allowed', text: 'This address does not answer that kind of request.' },
  413: { title: 'Too large', text: 'What was sent is too large.' },
  429: { title: 'Too many requests', text: 'Too many requests from your address. Wait a minute and try again.' },
  500: { title: 'Something went wrong', text: 'The console could not complete the request. Try again; if it goes on, tell the gateway administrator.' },
  503: { title: 'Unavailable', text: 'The console is shutting down or busy. Try again shortly.' },
};

export function errorPage(status: ErrorStatus, detail?: string): { title: string; main: string } {
  const t = ERROR_TEXT[status];
  return {
    title: t.title,
    main: `<div class="card narrow"><h1>${e(t.title)}</h1><p>${e(detail ?? t.text)}</p><p><a href="/">Back to the console</a></p></div>`,
  };
}

export interface SignInView {
  readonly csrf: string;
  /** The name typed before (kept on a failed attempt). */
  readonly username?: string;
  readonly problem?: 'credentials' | 'locked' | 'expired' | 'signed-out' | 'csrf';
  /** ISO time a locked name may try again. */
  readonly lockedUntil?: string | undefined;
}

function problemText(v: SignInView): { alert: boolean; text: string } | undefined {
  switch (v.problem) {
    case 'credentials':
      return { alert: true, text: 'The name, password or code is not right. Codes work once: wait for the next one if you just used this one.' };
    case 'locked':
      return { alert: true, text: `Too many failed sign-ins: this name is locked until ${v.lockedUntil ?? 'later'} (UTC). A console admin can clear it with sealgate console-users reset-mfa.` };
    case 'expired':
      return { alert: false, text: 'Your session ended (15 minutes without activity, or signed out elsewhere). Sign in again.' };
    case 'signed-out':
      return { alert: false, text: 'You are signed out.' };
    case 'csrf':
      return { alert: true, text: 'The form had expired. Sign in again.' };
    default:
      return undefined;
  }
}

export function signInPage(v: SignInView): { title: string; main: string } {
  const p = problemText(v);
  const msg = p ? `<div class="${p.alert ? 'alert' : 'note'}" role="${p.alert ? 'alert' : 'status'}"><p>${e(p.text)}</p></div>` : '';
  return {
    title: 'Sign in',
    main: [
      '<div class="card narrow">',
      '<h1>Sign in</h1>',
      msg,
      '<form method="post" action="/sign-in">',
      `<input type="hidden" name="csrf" value="${e(v.csrf)}">`,
      '<label for="username">Name</label>',
      `<input class="field" type="text" id="username" name="username" autocomplete="username" autocapitalize="none" spellcheck="false" maxlength="64" required value="${e(v.username ?? '')}">`,
      '<label for="password">Password</label>',
      '<input class="field" type="password" id="password" name="password" autocomplete="current-password" maxlength="1024" required>',
      '<label for="code">Code from your authenticator app</label>',
      '<span class="hint" id="code-hint">6 digits; a new one every 30 seconds.</span>',
      '<input class="field code" type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" pattern="[0-9]{6}" maxlength="6" required aria-describedby="code-hint">',
      '<button type="submit">Sign in</button>',
      '</form>',
      '</div>',
    ].join(''),
  };
}

/** The page after sign-in for a role with no archive access (admin: links to its pages). */
export function homePage(viewer: Viewer): { title: string; main: string } {
  const body = mayReadArchive(viewer.role)
    ? '<p><a href="/archive">Search the archive</a></p>'
    : '<ul><li><a href="/admin/queue">The queue</a>: hold, release or delete messages</li><li><a href="/admin/users">Console users</a>: add, disable, reset a code secret</li><li><a href="/admin/config">The running configuration</a>, secrets redacted</li><li><a href="/export">Export evidence</a> from the archive</li></ul><p>Reading the archive (search, evidence, the audit log) is for the auditor roles.</p>';
  return { title: 'Console', main: `<div class="card"><h1>Signed in as ${e(viewer.name)}</h1>${body}</div>` };
}
