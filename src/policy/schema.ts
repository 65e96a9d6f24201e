/**
 * The `policy` section of the config: profiles (settings that inherit
 * global → connector → sender domain → sender) and rules (conditions →
 * actions), evaluated by src/policy/profile.ts and src/policy/rules.ts.
 */
import { z } from 'zod';
import { duration } from '../config/duration.js';
import { PROTECTIONS } from './protection.js';

const addressOrDomainPattern = z
  .string()
  .regex(/^(\*|(\*@)?(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*|[^\s@*]+@(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/i, {
    message: 'expected an address ("ann@example.org"), a domain ("example.org"), its subdomains ("*.example.org") or "*"',
  });

const domainPattern = z.string().regex(/^(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$/i, { message: 'expected a domain ("example.org") or its subdomains ("*.example.org")' });

export const profileSettingsSchema = z.strictObject({
  minimumProtection: z.enum(PROTECTIONS).optional().describe('Protection every message gets at least.'),
  phiProtection: z.enum(PROTECTIONS).optional().describe('Protection for a message with PHI (an identifier together with health information).'),
  sensitiveProtection: z.enum(PROTECTIONS).optional().describe('Protection for a message with other sensitive findings (SSN, card, bank numbers …) but no PHI.'),
  identifierProtection: z
    .enum(PROTECTIONS)
    .optional()
    .describe('Protection for a message with a personal identifier found with high confidence (SSN, ITIN, Medicare MBI, MRN, member ID, payment card, bank account), health words or not: HIPAA identifiers. Lower it per profile where that is right.'),
  notFullyScannedProtection: z.enum(PROTECTIONS).optional().describe('Protection for a message that could not be fully scanned (encrypted or oversized parts, limits): fail closed.'),
  subjectTagProtection: z.enum(PROTECTIONS).optional().describe('Protection asked for by a subject tag ([secure], [encrypt], +encrypt+).'),
  stripSubjectTag: z.boolean().optional().describe('Remove the subject tag before delivery.'),
  e2eDomains: z.array(domainPattern).optional().describe('Consumer mailbox providers: PHI to them needs E2E or the portal (replaces the inherited list).'),
  portalExpiry: duration(3_600_000).optional().describe('How long this sender\'s portal messages stay readable; can only shorten portal.expiry.'),
  archiveRetention: duration(86_400_000).optional().describe('How long this sender\'s messages stay in the archive, e.g. "10y"; can only lengthen archive.retention.'),
  preferEndToEnd: z
    .boolean()
    .optional()
    .describe('A recipient with a valid OpenPGP key or S/MIME certificate gets an end-to-end encrypted copy whenever the message needs any protection (not only when E2E or the portal is required); the copy still travels over the transport the protection requires.'),
});
export type ProfileSettings = z.output<typeof profileSettingsSchema>;

const headerName = z.string().regex(/^(?!(received|from|to|cc|bcc|subject|date|message-id|return-path|dkim-signature|arc-[a-z-]+|content-[a-z-]+|mime-version)$)[A-Za-z][A-Za-z0-9-]{0,75}$/i, {
  message: 'expected a header name (letters, digits, "-"); structural headers (From, To, Subject, Content-*, Received …) cannot be added',
});
const headerValue = z.string().max(200).regex(/^[^\r\n]*$/, { message: 'a header value cannot contain line breaks' });

const categoryCondition = z.strictObject({
  category: z.string().regex(/^[A-Z][A-Z0-9_]*$/, { message: 'expected a detector category such as SSN, ICD10, PAYMENT_CARD, PHI' }),
  minCount: z.number().int().min(1).default(1),
  minConfidence: z.enum(['low', 'medium', 'high']).default('medium'),
});

export const ruleSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/i, { message: 'expected a short id (letters, digits, ".", "_", "-")' }),
  description: z.string().max(200).optional(),
  when: z
    .strictObject({
      categories: z.array(categoryCondition).min(1).optional().describe('Matches when any of these findings is present.'),
      phi: z.boolean().optional(),
      notFullyScanned: z.boolean().optional(),
      encrypted: z.boolean().optional().describe('An encrypted archive entry or password-protected document was found.'),
      senders: z.array(addressOrDomainPattern).min(1).optional(),
      recipients: z.array(addressOrDomainPattern).min(1).optional().describe('The rule applies only to the recipients matching one of these.'),
      connectors: z.array(z.string().min(1)).min(1).optional(),
      subjectTag: z.boolean().optional(),
      attachmentTypes: z.array(z.string().regex(/^(\.[a-z0-9]{1,10}|[a-z]+\/(\*|[a-z0-9.+-]+))$/i, { message: 'expected a file extension (".xlsx") or a media type ("application/pdf", "image/*")' })).min(1).optional(),
      minSize: z.number().int().min(0).optional().describe('Bytes.'),
      maxSize: z.number().int().min(0).optional().describe('Bytes.'),
    })
    .prefault({}),
  then: z
    .strictObject({
      require: z.enum(PROTECTIONS).optional(),
      action: z.enum(['block', 'quarantine']).optional(),
      notify: z.array(z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/, { message: 'expected an email address' })).max(10).optional(),
      stripSubjectTag: z.boolean().optional(),
      addHeaders: z.record(headerName, headerValue).optional(),
    })
    .refine((t) => Object.keys(t).length > 0, { message: 'a rule needs at least one action: require, action, notify, stripSubjectTag or addHeaders' }),
});
export type PolicyRule = z.output<typeof ruleSchema>;

export const policySchema = z
  .strictObject({
    profiles: z
      .strictObject({
        global: profileSettingsSchema.optional(),
        connectors: z.record(z.string(), profileSettingsSchema).default({}),
        senderDomains: z.record(domainPattern, profileSettingsSchema).default({}),
        senders: z.record(z.string().regex(/^[^\s@<>]+@[^\s@<>]+$/), profileSettingsSchema).default({}),
      })
      .prefault({}),
    rules: z.array(ruleSchema).max(500).default([]),
  })
  .prefault({})
  .superRefine((p, ctx) => {
    const seen = new Set<string>();
    p.rules.forEach((r, i) => {
      if (seen.has(r.id)) ctx.addIssue({ code: 'custom', path: ['rules', i, 'id'], message: `duplicate rule id "${r.id}"; give each rule its own id` });
      seen.add(r.id);
    });
  });
export type PolicyConfig = z.output<typeof policySchema>;
