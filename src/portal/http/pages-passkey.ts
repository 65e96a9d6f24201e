/**
 * The passkey parts of the portal's pages (pure, docs/portal.md "Passkeys"):
 * the set-up page, the "Sign in with a passkey" block of the sign-in page,
 * and the offer on the message page. Every value is escaped here.
 *
 * What the glue script (passkey-script.ts) needs comes in data-* attributes
 * of one element marked data-passkey: the two URLs, the CSRF token and the
 * wording. Without JavaScript the set-up page says that passkeys need it
 * and offers the way back; the sign-in block stays hidden (`hidden`), so
 * the code sign-in is all that shows. Nothing here runs script by itself.
 */
import { escapeHtml as e } from '../notification.js';
import { page, type Shell } from './layout.js';

const base = (token: string) => `/m/${encodeURIComponent(token)}`;

function dataAttributes(values: Record<string, string>): string {
  return Object.entries(values)
    .map(([name, value]) => ` data-${name}="${e(value)}"`)
    .join('');
}

export interface PasskeyPageInput {
  readonly token: string;
  /** The session's CSRF token. */
  readonly csrf: string;
  readonly address: string;
  /** Passkeys this address already has. */
  readonly existing: number;
  /** `/static/passkey.js?v=…` */
  readonly script: string;
}

/** GET /m/:token/passkey: set up a passkey (signed in only). */
export function passkeyPage(shell: Shell, p: PasskeyPageInput): string {
  const { s } = shell;
  const data = dataAttributes({
    passkey: 'register',
    options: `${base(p.token)}/passkey/register/options`,
    verify: `${base(p.token)}/passkey/register/verify`,
    csrf: p.csrf,
    next: base(p.token),
    'msg-working': s.passkeyWorking,
    'msg-cancelled': s.passkeyCancelled,
    'msg-exists': s.passkeyExists,
    'msg-failed': s.passkeyFailed,
    'msg-unsupported': s.passkeyUnsupported,
  });
  return page(shell, {
    title: s.passkeyTitle,
    scripts: [p.script],
    main: [
      `<div class="card narrow passkey"${data}>`,
      `<h1>${e(s.passkeyTitle)}</h1>`,
      `<p>${e(s.passkeyIntro(p.address))}</p>`,
      `<p class="muted">${e(s.passkeyKept)}</p>`,
      p.existing > 0 ? `<p class="muted">${e(s.passkeyHave(p.existing))}</p>` : '',
      `<p class="note" data-passkey-nojs>${e(s.passkeyNeedsJs)}</p>`,
      `<div data-passkey-ready hidden><button type="button" data-passkey-start>${e(s.passkeyCreate)}</button></div>`,
      '<p class="muted" role="status" data-passkey-status hidden></p>',
      '<p class="alert" role="alert" data-passkey-error hidden></p>',
      `<div class="note done" data-passkey-done tabindex="-1" hidden><p>${e(s.passkeyDone)}</p></div>`,
      `<p><a href="${e(base(p.token))}">${e(s.backToMessage)}</a></p>`,
      '</div>',
    ].join(''),
  });
}

export interface PasskeySignInInput {
  readonly token: string;
  /** The pre-session form token (the same as the code form's). */
  readonly csrf: string;
}

/** The "Sign in with a passkey" block of the sign-in page: hidden until the script shows it. */
export function passkeySignInBlock(shell: Shell, p: PasskeySignInInput): string {
  const { s } = shell;
  const data = dataAttributes({
    passkey: 'login',
    options: `${base(p.token)}/passkey/login/options`,
    verify: `${base(p.token)}/passkey/login/verify`,
    csrf: p.csrf,
    next: base(p.token),
    'msg-working': s.passkeyWorking,
    'msg-cancelled': s.passkeySignInCancelled,
    'msg-failed': s.passkeySignInFailed,
    'msg-signed-in': s.passkeySignedIn,
  });
  return [
    `<div class="passkey-signin"${data} hidden>`,
    `<button type="button" data-passkey-start>${e(s.passkeySignIn)}</button>`,
    '<p class="muted" role="status" data-passkey-status hidden></p>',
    '<p class="alert" role="alert" data-passkey-error hidden></p>',
    `<p class="or">${e(s.passkeySignInOr)}</p>`,
    '</div>',
  ].join('');
}

/** The message page's offer (sessions signed in with a code, when passkeys are on). */
export function passkeyOfferBlock(shell: Shell, token: string): string {
  const { s } = shell;
  return [
    '<aside class="note passkey-offer" aria-labelledby="passkey-offer-h">',
    `<h2 id="passkey-offer-h">${e(s.passkeyOfferTitle)}</h2>`,
    `<p>${e(s.passkeyOfferBody)}</p>`,
    `<form method="get" action="${e(`${base(token)}/passkey`)}"><button type="submit" class="secondary small">${e(s.passkeyOfferButton)}</button></form>`,
    '</aside>',
  ].join('');
}
