/**
 * Zero-knowledge links in the web pages (portal.linkKey; storage in
 * link-key.ts). A browser never sends a URL's #fragment, so a small
 * same-origin script on the pages a link opens copies it into a cookie
 * scoped to that link's path (`Path=/m/<token>`, SameSite=Strict, Secure
 * over HTTPS, no expiry: it ends with the browser session). The server
 * reads it on each request to open the copy and never stores it. Without
 * JavaScript such a message cannot be opened: the cost of the mode, stated
 * on the page and in docs/portal.md.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isLinkFragment } from '../link-key.js';
import type { LinkAccess, TokenMatch } from '../portal-store.js';
import type { PortalContext } from './context.js';

/** Name of the cookie that carries a link's key part (path-scoped per link, so one name serves every link). */
export const LINK_KEY_COOKIE = 'sealgate_k';
export const LINK_KEY_SCRIPT = '/static/link-key.js';

/**
 * The script: a fragment of 43 base64url characters becomes the cookie; a
 * page that reports the key missing (data-link-key-missing) reloads once
 * the cookie is there. No DOM sinks, so Trusted Types 'none' holds.
 */
export const LINK_KEY_JS = `const k = location.hash.slice(1);
const path = location.pathname.replace(/\\/(print|passkey)$/, '');
if (/^[A-Za-z0-9_-]{43}$/.test(k) && /^\\/m\\/[A-Za-z0-9_-]{43}$/.test(path)) {
  const had = document.cookie.split('; ').includes('${LINK_KEY_COOKIE}=' + k);
  document.cookie = '${LINK_KEY_COOKIE}=' + k + '; Path=' + path + '; SameSite=Strict' + (location.protocol === 'https:' ? '; Secure' : '');
  if (!had && document.body.hasAttribute('data-link-key-missing')) location.reload();
}
`;

export function registerLinkKeyScript(app: FastifyInstance): void {
  app.route({
    method: ['GET', 'HEAD'],
    url: LINK_KEY_SCRIPT,
    handler: (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-store').send(LINK_KEY_JS),
  });
}

export type LinkKeyAccess = { readonly kind: 'none' } | { readonly kind: 'ok'; readonly access: LinkAccess } | { readonly kind: 'missing' };

/** What opens this link's copy: nothing (an ordinary copy), the key part from the cookie, or it is missing. */
export function linkKeyAccess(ctx: PortalContext, request: FastifyRequest, match: TokenMatch): LinkKeyAccess {
  if (!match.linkKey) return { kind: 'none' };
  const value = request.cookies[LINK_KEY_COOKIE];
  return isLinkFragment(value) ? { kind: 'ok', access: { seq: match.recipient.seq, fragment: value } } : { kind: 'missing' };
}
