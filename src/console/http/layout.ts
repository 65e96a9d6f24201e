/**
 * The page shell of every console page (pure): lang, viewport, our own
 * stylesheet, a skip link, the header with the navigation and the sign-out
 * form when signed in, the main content. No scripts, no inline styles.
 */
import { escapeHtml as e } from '../../portal/notification.js';
import type { ConsoleRole } from '../users.js';

export { e };

export interface Viewer {
  readonly name: string;
  readonly role: ConsoleRole;
  readonly csrf: string;
}

export interface ConsolePage {
  readonly title: string;
  /** Inner HTML of <main>, already escaped by the caller. */
  readonly main: string;
  /** The signed-in user (navigation and sign-out); absent on the sign-in and error pages before sign-in. */
  readonly viewer?: Viewer | undefined;
  /** Which navigation entry is this page. */
  readonly current?: 'archive' | 'audit' | 'reports' | 'export' | 'admin-config' | 'admin-queue' | 'admin-users' | undefined;
  /** Reload the page after this many seconds (a running export's progress, without JavaScript). */
  readonly refreshSeconds?: number | undefined;
}

/** Pure: whether a role may read the archive (search, metadata, evidence). */
export function mayReadArchive(role: ConsoleRole): boolean {
  return role === 'auditor' || role === 'auditor-content';
}

/** Pure: whether a role may export archive entries (metadata and evidence; content: mayExportContent). */
export function mayExport(role: ConsoleRole): boolean {
  return role === 'auditor' || role === 'auditor-content' || role === 'admin';
}

/** Pure: whether a role's exports may hold message content. */
export function mayExportContent(role: ConsoleRole): boolean {
  return role === 'auditor-content' || role === 'admin';
}

/** Pure: whether a role may use the admin pages (configuration, queue, users). */
export function mayAdminister(role: ConsoleRole): boolean {
  return role === 'admin';
}

/** Pure: whether a role may view the reports page (figures only: every console role). */
export function mayViewReports(role: ConsoleRole): boolean {
  return role === 'auditor' || role === 'auditor-content' || role === 'admin';
}

/** Pure: whether a role may open a message's content (with a reason). */
export function mayOpenContent(role: ConsoleRole): boolean {
  return role === 'auditor-content';
}

export function renderPage(stylesheetHref: string, input: ConsolePage): string {
  const v = input.viewer;
  const nav = v
    ? [
        '<nav class="top" aria-label="Console">',
        '<ul>',
        mayReadArchive(v.role) ? `<li><a href="/archive"${input.current === 'archive' ? ' aria-current="page"' : ''}>Archive search</a></li>` : '',
        mayReadArchive(v.role) ? `<li><a href="/audit"${input.current === 'audit' ? ' aria-current="page"' : ''}>Audit log</a></li>` : '',
        mayViewReports(v.role) ? `<li><a href="/reports"${input.current === 'reports' ? ' aria-current="page"' : ''}>Reports</a></li>` : '',
        mayExport(v.role) ? `<li><a href="/export"${input.current === 'export' ? ' aria-current="page"' : ''}>Export</a></li>` : '',
        mayAdminister(v.role) ? `<li><a href="/admin/queue"${input.current === 'admin-queue' ? ' aria-current="page"' : ''}>Queue</a></li>` : '',
        mayAdminister(v.role) ? `<li><a href="/admin/users"${input.current === 'admin-users' ? ' aria-current="page"' : ''}>Users</a></li>` : '',
        mayAdminister(v.role) ? `<li><a href="/admin/config"${input.current === 'admin-config' ? ' aria-current="page"' : ''}>Configuration</a></li>` : '',
        '</ul>',
        '</nav>',
        '<div class="who">',
        `<span>${e(v.name)} (${e(v.role)})</span> `,
        `<form class="inline" method="post" action="/sign-out"><input type="hidden" name="csrf" value="${e(v.csrf)}"><button type="submit">Sign out</button></form>`,
        '</div>',
      ].join('')
    : '';
  return [
    '<!DOCTYPE html>',
    '<html lang="en" dir="ltr">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex, nofollow">',
    '<meta name="referrer" content="no-referrer">',
    '<meta name="format-detection" content="telephone=no">',
    input.refreshSeconds !== undefined ? `<meta http-equiv="refresh" content="${Math.max(1, Math.floor(input.refreshSeconds))}">` : '',
    `<title>${e(input.title)} \u2013 Sealgate auditor console</title>`,
    `<link rel="stylesheet" href="${e(stylesheetHref)}">`,
    '</head>',
    '<body>',
    '<a class="skip" href="#main">Skip to content</a>',
    `<header class="brand"><div class="wrap"><span class="org">Sealgate auditor console</span>${nav}</div></header>`,
    `<main id="main" class="wrap">${input.main}</main>`,
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
