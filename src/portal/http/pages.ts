/**
 * The portal's pages as HTML strings (pure): sign-in, code entry, refused
 * and locked, the message and its print view, signed out, the link states
 * (not valid, withdrawn, expired, no longer available) and the error pages.
 * Every value is escaped here; every action is a <form> with a submit
 * <button> (no JavaScript); every input has a <label>. Wording comes from
 * strings.ts.
 */
import { escapeHtml as e } from '../notification.js';
import { formatDate, formatSize, formatSoon, minutesUntil } from './format.js';
import { page, type Shell } from './layout.js';
import { passkeyOfferBlock } from './pages-passkey.js';
import type { RenderedMessage } from './render-message.js';
import type { ErrorStatus } from './strings.js';
import { LINK_KEY_SCRIPT } from './link-key-web.js';

const base = (token: string) => `/m/${encodeURIComponent(token)}`;
const csrfField = (csrf: string) => `<input type="hidden" name="csrf" value="${e(csrf)}">`;
const para = (text: string, cls?: string) => `<p${cls ? ` class="${cls}"` : ''}>${e(text)}</p>`;

function postForm(action: string, csrf: string, label: string, buttonClass = ''): string {
  return `<form method="post" action="${e(action)}">${csrfField(csrf)}<button type="submit"${buttonClass ? ` class="${buttonClass}"` : ''}>${e(label)}</button></form>`;
}

export interface SignInPageInput {
  readonly token: string;
  readonly masked: string;
  readonly csrf: string;
  readonly expiresAt: number;
  /** The recipient has a passkey: its sign-in block (pages-passkey.ts) and the script that drives it. */
  readonly passkey?: { readonly html: string; readonly script: string } | undefined;
  /** A zero-knowledge link: the script that keeps its key part, and a note that the page needs JavaScript. */
  readonly linkKey?: boolean | undefined;
}

export function signInPage(shell: Shell, p: SignInPageInput): string {
  const { s } = shell;
  return page(shell, {
    title: s.signInTitle,
    scripts: [...(p.linkKey ? [LINK_KEY_SCRIPT] : []), ...(p.passkey ? [p.passkey.script] : [])],
    main: [
      '<div class="card narrow">',
      `<h1>${e(s.signInTitle)}</h1>`,
      para(p.passkey ? s.passkeySignInIntro : s.signInIntro),
      p.passkey?.html ?? '',
      para(s.signInAddress(p.masked)),
      postForm(`${base(p.token)}/code`, p.csrf, s.sendCode),
      para(s.availableUntil(formatDate(p.expiresAt)), 'muted'),
      para(s.cookiesNeeded, 'muted'),
      '</div>',
    ].join(''),
  });
}

export interface CodeEntryPageInput {
  readonly token: string;
  readonly masked: string;
  readonly csrf: string;
  /** Shown above the field, announced to screen readers. */
  readonly error?: string | undefined;
  /** "We emailed a code" — false when the page is shown again after a wrong code. */
  readonly justSent: boolean;
}

function codeForm(shell: Shell, p: { token: string; csrf: string; error?: string | undefined }): string {
  const { s } = shell;
  const invalid = p.error ? ' aria-invalid="true" aria-describedby="code-hint code-error"' : ' aria-describedby="code-hint"';
  return [
    `<form method="post" action="${e(`${base(p.token)}/sign-in`)}">`,
    csrfField(p.csrf),
    `<label for="code">${e(s.codeLabel)}</label>`,
    `<span class="hint" id="code-hint">${e(s.codeHint)}</span>`,
    `<input type="text" id="code" name="code" autocomplete="one-time-code" inputmode="numeric" maxlength="16" spellcheck="false" autocapitalize="off" required${invalid}>`,
    `<button type="submit">${e(s.signIn)}</button>`,
    '</form>',
  ].join('');
}

export function codeEntryPage(shell: Shell, p: CodeEntryPageInput): string {
  const { s } = shell;
  return page(shell, {
    title: s.codeTitle,
    main: [
      '<div class="card narrow">',
      `<h1>${e(s.codeTitle)}</h1>`,
      p.error ? `<p class="alert" id="code-error" role="alert">${e(p.error)}</p>` : '',
      p.justSent ? para(s.codeSent(p.masked)) + para(s.codeCheckSpam, 'muted') : '',
      codeForm(shell, p),
      para(s.newCodeIntro, 'muted'),
      postForm(`${base(p.token)}/code`, p.csrf, s.newCode, 'secondary'),
      '</div>',
    ].join(''),
  });
}

export interface RefusedPageInput {
  readonly token: string;
  readonly csrf: string;
  readonly reason: 'locked' | 'rate';
  readonly retryAt: number;
  readonly now: number;
}

export function refusedPage(shell: Shell, p: RefusedPageInput): string {
  const { s } = shell;
  const at = formatSoon(p.retryAt, p.now);
  const minutes = s.inMinutes(minutesUntil(p.retryAt, p.now));
  const locked = p.reason === 'locked';
  return page(shell, {
    title: locked ? s.lockedTitle : s.refusedTitle,
    main: [
      '<div class="card narrow">',
      `<h1>${e(locked ? s.lockedTitle : s.refusedTitle)}</h1>`,
      `<p class="alert" role="alert">${e(locked ? s.refusedLocked(at, minutes) : s.refusedRate(at, minutes))}</p>`,
      // after too many codes an hour the last one may still work; after a lock it cannot
      locked ? '' : para(s.refusedLatestCode) + codeForm(shell, { token: p.token, csrf: p.csrf }),
      '</div>',
    ].join(''),
  });
}

export function lockedPage(shell: Shell, p: { until: number; now: number }): string {
  const { s } = shell;
  return page(shell, {
    title: s.lockedTitle,
    main: [
      '<div class="card narrow">',
      `<h1>${e(s.lockedTitle)}</h1>`,
      `<p class="alert" role="alert">${e(s.lockedBody(formatSoon(p.until, p.now), s.inMinutes(minutesUntil(p.until, p.now))))}</p>`,
      '</div>',
    ].join(''),
  });
}

export interface MessagePageInput {
  readonly token: string;
  /** The session's CSRF token (not used by the print view). */
  readonly csrf: string;
  readonly viewer: string;
  readonly message: RenderedMessage;
  readonly expiresAt: number;
  readonly showImages: boolean;
  /** The print view: same content, no forms. */
  readonly print: boolean;
  /** Secure reply: who it goes to, whether reply-all adds anyone, the size limit; absent: no reply form. */
  readonly reply?: { readonly sender: string; readonly canReplyAll: boolean; readonly maxBytes: number; readonly sent: boolean } | undefined;
  /** The viewer's own earlier replies (their text and attachment count), oldest first. */
  readonly thread?: readonly { readonly at: number; readonly text: string; readonly files: number }[] | undefined;
  /** Offer "set up a passkey" (pages-passkey.ts). */
  readonly passkeyOffer?: boolean | undefined;
}

function addressList(list: readonly string[], more: number, s: Shell['s'], blind = false): string {
  const shown = list.map(e).join(', ');
  return `${shown}${blind ? ` ${e(s.blindCopy)}` : ''}${more > 0 ? ` ${e(s.moreRecipients(more))}` : ''}`;
}

function headerList(shell: Shell, m: RenderedMessage): string {
  const { s } = shell;
  const rows: string[] = [];
  if (m.from.length) rows.push(`<dt>${e(s.from)}</dt><dd>${addressList(m.from, 0, s)}</dd>`);
  if (m.to.length) rows.push(`<dt>${e(s.to)}</dt><dd>${addressList(m.to, m.toMore, s, m.blindCopy)}</dd>`);
  if (m.cc.length) rows.push(`<dt>${e(s.cc)}</dt><dd>${addressList(m.cc, m.ccMore, s)}</dd>`);
  if (m.date !== undefined) rows.push(`<dt>${e(s.date)}</dt><dd>${e(formatDate(m.date))}</dd>`);
  return `<dl class="headers">${rows.join('')}</dl>`;
}

function bodyBlock(shell: Shell, m: RenderedMessage): string {
  const { s } = shell;
  if (m.bodyHtml !== undefined) return `<div class="message-body">${m.bodyHtml}</div>`;
  const note = m.htmlTooLarge ? `<p class="note">${e(s.bodyTooLarge)}</p>` : '';
  if (m.bodyText !== undefined && m.bodyText.trim() !== '') return `<div class="message-body">${note}<pre class="message-text">${e(m.bodyText)}</pre></div>`;
  return `<div class="message-body">${note}${para(s.noBody, 'muted')}</div>`;
}

function attachmentList(shell: Shell, p: MessagePageInput): string {
  const { s } = shell;
  const m = p.message;
  if (m.attachments.length === 0) return '';
  const items = m.attachments.map((a) => {
    const button = p.print
      ? ''
      : `<form method="get" action="${e(`${base(p.token)}/attachments/${a.index}`)}" class="inline"><button type="submit" class="small" aria-label="${e(s.downloadLabel(a.filename))}">${e(s.download)}</button></form>`;
    return `<li><span class="file"><span class="name">${e(a.filename)}</span><span class="muted">${e(a.contentType)} \u00b7 ${e(formatSize(a.size))}</span></span>${button}</li>`;
  });
  return `<section class="card" aria-labelledby="files-h"><h2 id="files-h">${e(s.attachments(m.attachments.length))}</h2><ul class="files">${items.join('')}</ul></section>`;
}

export function messagePage(shell: Shell, p: MessagePageInput): string {
  const { s } = shell;
  const m = p.message;
  const subject = m.subject || s.noSubject;
  const images = p.showImages ? '<input type="hidden" name="images" value="1">' : '';
  const top = p.print
    ? `<div class="bar no-print"><p class="who">${e(s.printHint)}</p><p><a href="${e(base(p.token))}${p.showImages ? '?images=1' : ''}">${e(s.backToMessage)}</a></p></div>`
    : [
        '<div class="bar">',
        `<span class="who">${e(s.signedInAs(p.viewer))}</span>`,
        '<div class="actions">',
        `<form method="get" action="${e(`${base(p.token)}/print`)}" class="inline">${images}<button type="submit" class="secondary small">${e(s.printView)}</button></form>`,
        `<form method="post" action="${e(`${base(p.token)}/sign-out`)}" class="inline">${csrfField(p.csrf)}<button type="submit" class="secondary small">${e(s.signOut)}</button></form>`,
        '</div>',
        '</div>',
      ].join('');
  const blocked =
    !p.print && !p.showImages && m.blockedImages > 0
      ? `<div class="note"><p>${e(s.imagesBlocked(m.blockedImages))}</p><form method="get" action="${e(base(p.token))}"><input type="hidden" name="images" value="1"><button type="submit" class="secondary small">${e(s.showImages)}</button></form></div>`
      : '';
  return page(shell, {
    // not the subject: titles are kept in the browser's history and tab lists
    title: s.messageTitle,
    bodyClass: p.print ? 'print' : undefined,
    main: [
      top,
      '<article class="card">',
      `<h1 class="subject">${e(subject)}</h1>`,
      headerList(shell, m),
      blocked,
      bodyBlock(shell, m),
      '</article>',
      attachmentList(shell, p),
      p.print ? '' : threadBlock(shell, p),
      p.print ? '' : replyForm(shell, p),
      !p.print && p.passkeyOffer ? passkeyOfferBlock(shell, p.token) : '',
      para(s.expiresOn(formatDate(p.expiresAt)), 'muted'),
    ].join(''),
  });
}

function threadBlock(shell: Shell, p: MessagePageInput): string {
  const { s } = shell;
  const thread = p.thread ?? [];
  if (thread.length === 0) return '';
  const items = thread.map(
    (r) => `<li><p class="muted">${e(formatDate(r.at))}${r.files ? ` \u00b7 ${e(s.replyFiles(r.files))}` : ''}</p><pre class="message-text">${e(r.text)}</pre></li>`,
  );
  return `<section class="card" aria-labelledby="thread-h"><h2 id="thread-h">${e(s.yourReplies(thread.length))}</h2><ul class="thread">${items.join('')}</ul></section>`;
}

function replyForm(shell: Shell, p: MessagePageInput): string {
  const { s } = shell;
  const r = p.reply;
  if (!r) return '';
  const sent = r.sent ? `<div class="note" role="status"><p>${e(s.replySent)}</p></div>` : '';
  const all = r.canReplyAll ? `<button type="submit" name="all" value="1" class="secondary">${e(s.replySendAll)}</button>` : '';
  return [
    `<section class="card" aria-labelledby="reply-h"><h2 id="reply-h">${e(s.replyHeading)}</h2>`,
    sent,
    para(s.replyIntro(r.sender), 'muted'),
    r.canReplyAll ? para(s.replyAllIntro, 'muted') : '',
    `<form method="post" action="${e(`${base(p.token)}/reply`)}" enctype="multipart/form-data">`,
    csrfField(p.csrf),
    `<label for="reply-body">${e(s.replyBodyLabel)}</label>`,
    '<textarea id="reply-body" name="body" rows="8" maxlength="100000"></textarea>',
    `<label for="reply-files">${e(s.replyFilesLabel)}</label>`,
    `<span class="hint" id="reply-files-hint">${e(s.replyFilesHint(formatSize(r.maxBytes)))}</span>`,
    '<input type="file" id="reply-files" name="attachments" multiple aria-describedby="reply-files-hint">',
    `<div class="actions"><button type="submit" name="all" value="0">${e(s.replySend)}</button>${all}</div>`,
    '</form></section>',
  ].join('');
}

export function replyRefusedPage(shell: Shell, token: string, reason: string): string {
  const { s } = shell;
  const body = s.replyRefused[reason] ?? s.errors[400].body;
  return page(shell, { title: s.replyRefusedTitle, main: `<div class="card narrow"><h1>${e(s.replyRefusedTitle)}</h1>${para(body)}<p><a href="${e(base(token))}">${e(s.backToMessage)}</a></p></div>` });
}

/** A zero-knowledge message without its link's key part (or with a wrong one); the script completes it when the address bar still has it. */
export function linkKeyMissingPage(shell: Shell, wrong: boolean): string {
  const { s } = shell;
  return page(shell, {
    title: s.linkKeyTitle,
    scripts: [LINK_KEY_SCRIPT],
    bodyFlags: ['data-link-key-missing'],
    main: `<div class="card narrow"><h1>${e(s.linkKeyTitle)}</h1>${para(wrong ? s.linkKeyWrong : s.linkKeyMissing)}${para(s.linkKeyNeedsScript, 'muted')}</div>`,
  });
}

export interface WithdrawConfirmInput {
  readonly token: string;
  readonly csrf: string;
  readonly recipients: number;
  readonly sentAt: number;
  readonly expiresAt: number;
}

/** The sender's withdraw page: what would be withdrawn (no content) and one form. */
export function withdrawConfirmPage(shell: Shell, p: WithdrawConfirmInput): string {
  const { s } = shell;
  return page(shell, {
    title: s.withdrawTitle,
    main: [
      '<div class="card narrow">',
      `<h1>${e(s.withdrawTitle)}</h1>`,
      para(s.withdrawSummary(p.recipients, formatDate(p.sentAt), formatDate(p.expiresAt))),
      para(s.withdrawWarning),
      `<form method="post" action="/w/${encodeURIComponent(p.token)}">${csrfField(p.csrf)}<button type="submit">${e(s.withdrawButton)}</button></form>`,
      '</div>',
    ].join(''),
  });
}

/** After a withdrawal, or for a link whose message is already gone. */
export function withdrawnPage(shell: Shell, withdrawn: boolean): string {
  const { s } = shell;
  const [title, body] = withdrawn ? [s.withdrawnDoneTitle, s.withdrawnDoneBody] : [s.unavailableTitle, s.unavailableBody];
  return page(shell, { title, main: `<div class="card narrow"><h1>${e(title)}</h1>${para(body)}</div>` });
}

export function signedOutPage(shell: Shell, token: string): string {
  const { s } = shell;
  return page(shell, {
    title: s.signedOutTitle,
    main: [
      '<div class="card narrow">',
      `<h1>${e(s.signedOutTitle)}</h1>`,
      para(s.signedOutBody),
      `<form method="get" action="${e(base(token))}"><button type="submit" class="secondary">${e(s.openAgain)}</button></form>`,
      '</div>',
    ].join(''),
  });
}

export type GoneKind = 'withdrawn' | 'expired' | 'unavailable';

export function gonePage(shell: Shell, kind: GoneKind, expiresAt: number): string {
  const { s } = shell;
  const [title, body] =
    kind === 'withdrawn'
      ? [s.withdrawnTitle, s.withdrawnBody]
      : kind === 'expired'
        ? [s.expiredTitle, s.expiredBody(formatDate(expiresAt))]
        : [s.unavailableTitle, s.unavailableBody];
  return page(shell, { title, main: `<div class="card narrow"><h1>${e(title)}</h1>${para(body)}</div>` });
}

export function invalidLinkPage(shell: Shell): string {
  const { s } = shell;
  return page(shell, { title: s.invalidTitle, main: `<div class="card narrow"><h1>${e(s.invalidTitle)}</h1>${para(s.invalidBody)}</div>` });
}

export function tooLargePage(shell: Shell): string {
  const { s } = shell;
  return page(shell, { title: s.errors[500].title, main: `<div class="card narrow"><h1>${e(s.errors[500].title)}</h1>${para(s.messageTooLarge)}</div>` });
}

/** A generic error page; `token` adds a way back to the message link. */
export function errorPage(shell: Shell, status: ErrorStatus, token?: string): string {
  const { s } = shell;
  const text = s.errors[status];
  const back = token ? `<p><a href="${e(base(token))}">${e(s.openLinkAgain)}</a></p>` : '';
  return page(shell, { title: text.title, main: `<div class="card narrow"><h1>${e(text.title)}</h1>${para(text.body)}${back}</div>` });
}
