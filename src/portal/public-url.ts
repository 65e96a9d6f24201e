/**
 * The portal's public base URL (pure), shared by the deposit step (links in
 * notifications) and the web server (the passkeys' relying party).
 */
import type { Config } from '../config/schema.js';

/** Pure: the base URL of notification links: portal.publicUrl, or the listener itself on one machine. */
export function effectivePublicUrl(portal: Config['portal']): string {
  if (portal.publicUrl) return portal.publicUrl;
  const host = portal.listen.host === '0.0.0.0' || portal.listen.host === '::' ? 'localhost' : portal.listen.host.includes(':') ? `[${portal.listen.host}]` : portal.listen.host;
  return `https://${host}:${portal.listen.port}`;
}
