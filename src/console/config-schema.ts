/**
 * The `admin` section of the config: the auditor console's own listener
 * (issue 14's contract names). The console speaks HTTPS only: its session
 * cookie is always Secure, so admin.enabled needs a certificate and key
 * (tls.generateDevCerts makes a development pair when the files are missing).
 */
import { isIP } from 'node:net';
import { z } from 'zod';

export function adminSchema() {
  return z
    .strictObject({
      enabled: z.boolean().default(false).describe('Serve the auditor console (archive search, message evidence, content opening by role) on its own HTTPS listener. Users: sealgate console-users.'),
      listen: z
        .strictObject({
          host: z.string().refine((v) => isIP(v) !== 0 || v === 'localhost', { message: 'expected an IP address to bind, e.g. "127.0.0.1"' }).default('127.0.0.1').describe("Address the console's HTTPS listener binds (loopback by default: reach it through an SSH tunnel or a VPN)."),
          port: z.number().int().min(0).max(65535).default(8444).describe('Port of the console listener (0 picks a free port; the chosen one is logged).'),
        })
        .prefault({})
        .describe("The console's own listener, apart from SMTP, the portal and metrics."),
      certFile: z.string().optional().describe('TLS certificate chain (PEM) of the console listener; needed when admin.enabled.'),
      keyFile: z.string().optional().describe('TLS private key (PEM) of the console listener; needed when admin.enabled.'),
    })
    .prefault({})
    .superRefine((a, ctx) => {
      if (a.enabled && (a.certFile === undefined || a.keyFile === undefined)) {
        ctx.addIssue({ code: 'custom', path: [a.certFile === undefined ? 'certFile' : 'keyFile'], message: 'the console speaks HTTPS only: give admin.certFile and admin.keyFile (tls.generateDevCerts: true creates a development pair)' });
      }
    })
    .describe('Auditor console (issue 14): a web console on its own listener.');
}
