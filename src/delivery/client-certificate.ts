/**
 * The TLS client certificate the gateway presents when it delivers
 * (delivery.clientCertificate): what a certificate-bound inbound connector
 * (Exchange Online's TlsSenderCertificateName, docs/m365.md) checks. Read at
 * start and on every reload; a file that cannot be read or a key that is
 * not the certificate's is a config error naming the path.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { SealgateError } from '../errors.js';

export interface ClientCertificate {
  readonly cert: string;
  readonly key: string;
}

export function loadClientCertificate(setting: { readonly certFile: string; readonly keyFile: string } | null, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): ClientCertificate | undefined {
  if (!setting) return undefined;
  let cert: string;
  let key: string;
  try {
    cert = read(resolve(setting.certFile));
  } catch {
    throw new SealgateError('SG_CONFIG_INVALID', { message: `delivery.clientCertificate.certFile: ${setting.certFile} cannot be read: put the certificate chain (PEM) there` });
  }
  try {
    key = read(resolve(setting.keyFile));
  } catch {
    throw new SealgateError('SG_CONFIG_INVALID', { message: `delivery.clientCertificate.keyFile: ${setting.keyFile} cannot be read: put its private key (PEM, mode 0600) there` });
  }
  try {
    if (!new X509Certificate(cert).checkPrivateKey(createPrivateKey(key))) throw new Error('mismatch');
  } catch {
    throw new SealgateError('SG_CONFIG_INVALID', { message: `delivery.clientCertificate: the key in ${setting.keyFile} is not the private key of the certificate in ${setting.certFile} (or one of them is not PEM)` });
  }
  return { cert, key };
}
