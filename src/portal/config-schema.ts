/**
 * The `portal` section of the config (issue 11's contract names).
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { duration } from '../config/duration.js';

const DAY = 86_400_000;
const MiB = 1024 * 1024;

/** Pure: the portal's public base URL is acceptable (https, or http on a loopback host for trying it on one machine). */
export function publicUrlProblem(value: string): string | undefined {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return 'expected an absolute URL such as "https://secure.example.org"';
  }
  if (url.search || url.hash) return 'leave out "?" queries and "#" fragments: links are built as <publicUrl>/m/<token>';
  if (url.username || url.password) return 'leave credentials out of the URL';
  const loopback = url.hostname === 'localhost' || url.hostname === '[::1]' || (isIP(url.hostname) === 4 && url.hostname.startsWith('127.'));
  if (url.protocol === 'https:') return undefined;
  if (url.protocol === 'http:' && loopback) return undefined;
  return 'recipients open this link: use https:// (http:// only for localhost)';
}

/** `cidr` and `hostPort` are the config's own validators for those value kinds. */
export function portalSchema(cidr: z.ZodType<string>, hostPort: z.ZodType<string>) {
  return z
    .strictObject({
      enabled: z.boolean().default(false).describe('Serve the secure message portal: recipients whose method is portal get an encrypted copy there and a notification mail with their link. Off: portal-method mail is held for an administrator, never sent weaker.'),
      listen: z
        .strictObject({
          host: z.string().refine((v) => isIP(v) !== 0 || v === 'localhost', { message: 'expected an IP address to bind, e.g. "127.0.0.1" or "::"' }).default('127.0.0.1').describe('Address the portal\'s HTTPS listener binds.'),
          port: z.number().int().min(0).max(65535).default(8443).describe('Port of the portal listener (0 picks a free port; the chosen one is logged).'),
        })
        .prefault({})
        .describe('The portal\'s own listener, apart from SMTP and metrics.'),
      publicUrl: z
        .string()
        .superRefine((v, ctx) => {
          const problem = publicUrlProblem(v);
          if (problem) ctx.addIssue({ code: 'custom', message: problem });
        })
        .transform((v) => v.replace(/\/+$/, ''))
        .optional()
        .describe('Base URL recipients reach the portal at; notification links are <publicUrl>/m/<token>.'),
      certFile: z.string().optional().describe('TLS certificate chain (PEM) of the portal listener; reloaded on SIGHUP. Without certFile/keyFile the listener speaks plain HTTP for a reverse proxy in trustedProxies.'),
      keyFile: z.string().optional().describe('TLS private key (PEM) of the portal listener.'),
      expiry: duration(3_600_000).default(30 * DAY).describe('How long a message stays readable in the portal; then its key is destroyed (crypto-shredding). A policy profile may shorten it.'),
      linkKey: z.boolean().default(false).describe('Zero-knowledge mode: part of each message key lives only in the link\'s #fragment, so the server\'s disk and database alone cannot open it; a lost link cannot be reissued.'),
      replyRoute: hostPort.optional().describe('host:port of the organisation\'s own mail system for secure replies (default: normal MX routing, verified TLS).'),
      replyMaxBytes: z.number().int().min(0).max(150 * MiB).default(25 * MiB).describe('Largest secure reply, attachments included.'),
      trustedProxies: z.array(cidr).default([]).describe('Reverse proxies (IP or CIDR) whose X-Forwarded-For / X-Forwarded-Proto the portal believes.'),
      notificationFrom: z.email({ message: 'expected an address such as "secure@example.org"' }).optional().describe('From address of notification and sign-in code mails (default portal@<hostname>); use an address of your own domain that SPF/DKIM cover.'),
      senderRevokeLinks: z.boolean().default(false).describe('Mail the original sender a link that withdraws the portal message (revoke and shred at once), when it is stored (no content in that mail).'),
      readReceipts: z.boolean().default(false).describe('Tell the original sender by mail when each recipient first opens a portal message (who and when; never content).'),
      showSubject: z.boolean().default(false).describe('Show the original Subject in notifications when inspection found nothing sensitive in it (default: always the neutral "Secure message").'),
      branding: z
        .strictObject({
          organisationName: z.string().min(1).max(120).default('Sealgate').describe('Organisation name in notification mails and portal pages.'),
          logo: z.string().max(2048).optional().describe('Logo: an https:// URL or a file path (PNG, SVG or JPEG), shown in notifications and pages.'),
          colour: z.string().regex(/^#[0-9a-fA-F]{6}$/, { message: 'expected a colour such as "#1f4e79"' }).default('#1f4e79').describe('Accent colour (#rrggbb); text on it keeps WCAG AA contrast.'),
          supportContact: z.string().max(200).optional().describe('Who recipients contact for help (an address or a phone number), shown on every page.'),
          footer: z.string().max(1000).optional().describe('Footer text of notification mails and pages (e.g. a confidentiality notice).'),
        })
        .prefault({})
        .describe('What recipients see: name, logo, colour, support contact, footer.'),
    })
    .prefault({})
    .superRefine((p, ctx) => {
      if ((p.certFile === undefined) !== (p.keyFile === undefined)) {
        ctx.addIssue({ code: 'custom', path: [p.certFile === undefined ? 'certFile' : 'keyFile'], message: 'give both certFile and keyFile, or neither (plain HTTP behind a reverse proxy)' });
      }
    })
    .describe('Secure message portal (issue 11).');
}
