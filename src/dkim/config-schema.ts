/**
 * The `dkim` section of the config (issue 13's contract name `dkim.keys`).
 * The schema checks the shape only; the key files themselves are read and
 * checked by src/dkim/keys.ts when the daemon starts and on every reload, so
 * CLI commands that never sign (and may run as another user) do not need
 * read access to the private keys.
 */
import { z } from 'zod';

/** A domain name as DKIM's d= takes it: ASCII labels (an IDN in its A-label "xn--" form). */
export const dkimDomain = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)+\.?$/i, {
    message: 'expected a domain name such as "example.org" (an internationalised name in its "xn--" form)',
  })
  .transform((d) => d.toLowerCase().replace(/\.$/, ''));

/** A selector: one or more DNS labels (RFC 6376 §3.1 allows dotted selectors). */
export const dkimSelector = z
  .string()
  .max(63)
  .regex(/^[a-z0-9]([a-z0-9_-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9_-]*[a-z0-9])?)*$/i, {
    message: 'expected a DNS label such as "sg2026" (letters, digits, "-", "_"; dots separate labels)',
  });

export const dkimKeySchema = z.strictObject({
  domain: dkimDomain.describe('Signing domain (d=): mail whose From address is in this domain (or a subdomain without its own entry) is signed with this key.'),
  selector: dkimSelector.describe('Selector (s=): the public key is published as TXT at <selector>._domainkey.<domain>.'),
  keyFile: z.string().min(1).describe('PEM private key (RSA of at least 1024 bits, 2048 recommended, or Ed25519), e.g. made by "sealgate dkim keygen". The algorithm (rsa-sha256 or ed25519-sha256) follows from the key.'),
});

export const dkimSchema = z
  .strictObject({
    keys: z
      .array(dkimKeySchema)
      .max(100)
      .default([])
      .describe('DKIM signing keys. Two entries for one domain (an RSA and an Ed25519 key, different selectors) add two signatures. Empty: nothing is signed.'),
  })
  .prefault({})
  .superRefine((d, ctx) => {
    const seen = new Set<string>();
    d.keys.forEach((k, i) => {
      const id = `${k.selector.toLowerCase()}._domainkey.${k.domain}`;
      if (seen.has(id)) ctx.addIssue({ code: 'custom', path: ['keys', i, 'selector'], message: `duplicate selector "${k.selector}" for ${k.domain}; each key of a domain needs its own selector` });
      seen.add(id);
    });
  })
  .describe('DKIM signing of outgoing mail, after every change the gateway makes (docs/dkim.md).');

export type DkimConfig = z.output<typeof dkimSchema>;
export type DkimKeyConfig = DkimConfig['keys'][number];
