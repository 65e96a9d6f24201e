/**
 * Pure: the certificate/key pairs a config uses — each SMTP listener's, the
 * portal's and the console's (when on), and the delivery client certificate
 * — with the label doctor and the expiry alert both name them by.
 */
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';

export interface ConfiguredCertificate {
  readonly label: string;
  readonly certFile: string;
  readonly keyFile: string;
}

export function configuredCertificates(config: Pick<Config, 'smtp' | 'portal' | 'admin' | 'delivery'>): ConfiguredCertificate[] {
  const out: ConfiguredCertificate[] = [];
  for (const l of config.smtp.listeners) if (l.tls !== 'none' && l.certFile && l.keyFile) out.push({ label: `smtp listener ${l.name}`, certFile: resolve(l.certFile), keyFile: resolve(l.keyFile) });
  if (config.portal.enabled && config.portal.certFile && config.portal.keyFile) out.push({ label: 'portal', certFile: resolve(config.portal.certFile), keyFile: resolve(config.portal.keyFile) });
  if (config.admin.enabled && config.admin.certFile && config.admin.keyFile) out.push({ label: 'console', certFile: resolve(config.admin.certFile), keyFile: resolve(config.admin.keyFile) });
  const client = config.delivery.clientCertificate;
  if (client) out.push({ label: 'delivery client', certFile: resolve(client.certFile), keyFile: resolve(client.keyFile) });
  return out;
}
