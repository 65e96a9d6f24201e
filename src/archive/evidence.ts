/**
 * A delivery attempt as archive evidence (pure): the next hop, the TLS the
 * session had and whether the certificate verified, MTA-STS / DANE, the
 * requirement it was held to and the remote reply. Stored as JSON in the
 * recipient's archive row; `archive show --json` gives it back as objects.
 */
import { canonicalJson } from '../audit/chain.js';

/** Longest remote reply text kept (characters). */
const REPLY_TEXT_LIMIT = 512;

export interface AttemptFacts {
  readonly reply: { readonly code?: number | undefined; readonly enhanced?: string | undefined; readonly text: string };
  readonly mx?: string | undefined;
  readonly ip?: string | undefined;
  readonly tls?:
    | {
        readonly version: string;
        readonly cipher: string;
        readonly authorized: boolean;
        readonly authError?: string | undefined;
        readonly certSha256?: string | undefined;
        readonly dane?: string | undefined;
      }
    | undefined;
  /** The TLS-RPT policy type that governed the MX (sts, tlsa, no-policy-found). */
  readonly policy?: string | undefined;
  readonly stsMode?: string | undefined;
}

/** The evidence object of one attempt (no undefined members: it is stored as canonical JSON). */
export interface AttemptEvidence {
  mx?: string;
  ip?: string;
  tls: { version: string; cipher: string; verified: boolean; certSha256?: string; certError?: string; dane?: string } | null;
  mtaSts?: string;
  tlsPolicy?: string;
  requirement: string;
  method?: string;
  reply: { code?: number; enhanced?: string; text: string };
}

/** The evidence of a recipient whose copy went to the secure portal: the deposit and the notification queued for them (src/portal/deposit-step.ts). */
export interface PortalEvidence {
  portal: { depositId: string; notificationQueueId?: string };
  tls: null;
}

export function evidenceOf(attempt: AttemptFacts, job: { readonly requirement: string; readonly e2e?: { readonly method: string } | undefined }): AttemptEvidence {
  const t = attempt.tls;
  const tls: AttemptEvidence['tls'] = t
    ? {
        version: t.version,
        cipher: t.cipher,
        verified: t.authorized,
        ...(t.certSha256 ? { certSha256: t.certSha256 } : {}),
        ...(t.authError ? { certError: t.authError } : {}),
        ...(t.dane ? { dane: t.dane } : {}),
      }
    : null;
  return {
    ...(attempt.mx ? { mx: attempt.mx } : {}),
    ...(attempt.ip ? { ip: attempt.ip } : {}),
    tls,
    ...(attempt.stsMode ? { mtaSts: attempt.stsMode } : {}),
    ...(attempt.policy ? { tlsPolicy: attempt.policy } : {}),
    requirement: job.requirement,
    ...(job.e2e ? { method: job.e2e.method } : {}),
    reply: {
      ...(attempt.reply.code !== undefined ? { code: attempt.reply.code } : {}),
      ...(attempt.reply.enhanced ? { enhanced: attempt.reply.enhanced } : {}),
      text: attempt.reply.text.slice(0, REPLY_TEXT_LIMIT),
    },
  };
}

/** The evidence as the archive row stores it (canonical JSON). */
export function attemptEvidence(attempt: AttemptFacts, job: { readonly requirement: string; readonly e2e?: { readonly method: string } | undefined }): string {
  return canonicalJson(evidenceOf(attempt, job));
}
