/**
 * Notices the policy sends: to the sender when a rule blocks a message or it
 * is held for an administrator, and to the addresses a rule's `notify`
 * names. They carry the queue id, the rule ids and descriptions, and what
 * was found — as categories, counts and (to the sender only) masked evidence
 * such as "SSN ***-**-6789"; evidence that is not masked (health terms,
 * format names) is left out. Never the subject, the body, attachment names
 * or a matched value.
 */
import MimeNode from 'nodemailer/lib/mime-node';
import { rfc5322Date } from '../delivery/dsn.js';

export interface NoticeFinding {
  readonly category: string;
  readonly count: number;
  readonly confidence: string;
  /** Masked evidence (never a value); left out of administrator notices. */
  readonly evidence?: readonly string[] | undefined;
}

export interface PolicyNoticeInput {
  readonly kind: 'blocked' | 'held' | 'rule-matched';
  readonly to: readonly string[];
  readonly hostname: string;
  readonly queueId: string;
  readonly receivedAt: number;
  readonly now: number;
  readonly messageId: string;
  /** Recipients the notice is about (count only). */
  readonly recipientCount: number;
  readonly rules: readonly { readonly id: string; readonly description?: string | undefined }[];
  readonly findings: readonly NoticeFinding[];
  /** Administrator notices name the sender (staff address, not patient data). */
  readonly sender?: string | undefined;
  readonly reasons?: readonly string[] | undefined;
}

const SUBJECTS: Record<PolicyNoticeInput['kind'], string> = {
  blocked: 'Your message was not sent: blocked by email policy',
  held: 'Your message is held for review',
  'rule-matched': 'Email policy rule matched',
};

/** Pure: the notice's plain text. */
export function policyNoticeText(input: PolicyNoticeInput): string {
  const when = new Date(input.receivedAt).toISOString().replace('T', ' ').slice(0, 19);
  const lines: string[] = [];
  if (input.kind === 'blocked') {
    lines.push(`Your message accepted at ${when} UTC (queue id ${input.queueId}) to ${input.recipientCount} recipient(s) was not delivered: the organisation's email policy blocks it.`);
  } else if (input.kind === 'held') {
    lines.push(`Your message accepted at ${when} UTC (queue id ${input.queueId}) to ${input.recipientCount} recipient(s) is held: it needs a protection that cannot be provided right now, or a rule asks for review. An administrator can release it or return it to you.`);
  } else {
    lines.push(`A message accepted at ${when} UTC (queue id ${input.queueId}) from ${input.sender ?? '(unknown sender)'} to ${input.recipientCount} recipient(s) matched an email policy rule.`);
  }
  if (input.rules.length) {
    lines.push('', 'Rules:');
    for (const r of input.rules) lines.push(`  - ${r.id}${r.description ? `: ${r.description}` : ''}`);
  }
  if (input.reasons?.length) {
    lines.push('', 'Why:');
    for (const r of input.reasons) lines.push(`  - ${r}`);
  }
  if (input.findings.length) {
    lines.push('', input.kind === 'rule-matched' ? 'Found (categories and counts only):' : 'Found (values masked):');
    for (const f of input.findings) {
      // only evidence that is masked: health terms and format names are content, not shown
      const masked = input.kind === 'rule-matched' ? [] : (f.evidence ?? []).filter((e) => e.includes('*'));
      const evidence = masked.length ? `: ${masked.join(', ')}` : '';
      lines.push(`  - ${f.category}: ${f.count} (${f.confidence} confidence)${evidence}`);
    }
  }
  lines.push('', input.kind === 'rule-matched' ? `Look it up with: sealgate queue show ${input.queueId}` : 'If you believe this is wrong, contact your email administrator and quote the queue id.');
  lines.push('The subject and content of the message are not repeated in this notice.');
  return `${lines.join('\r\n')}\r\n`;
}

/** The notice email (null sender envelope; From postmaster of the gateway). */
export async function buildPolicyNotice(input: PolicyNoticeInput): Promise<Buffer> {
  const root = new MimeNode('text/plain; charset=utf-8');
  root.setHeader({
    From: `Sealgate <postmaster@${input.hostname}>`,
    To: input.to.map((a) => `<${a}>`).join(', '),
    Subject: SUBJECTS[input.kind],
    Date: rfc5322Date(input.now),
    'Message-ID': input.messageId,
    'Auto-Submitted': 'auto-generated',
    'X-Sealgate-Queue-Id': input.queueId,
  });
  root.setContent(policyNoticeText(input));
  return root.build();
}
