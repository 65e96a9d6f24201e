/**
 * The facts a message presents to the policy rules, and the header changes
 * the evaluation asks delivery to make. Pure.
 */
import type { MessageRewrite } from '../delivery/header-rewrite.js';
import type { Extracted } from '../inspect/extract.js';
import type { MessageVerdict } from '../inspect/verdict.js';
import type { PolicyEvaluation } from './evaluate.js';
import type { MessageFacts } from './rules.js';

/** Pure: the facts policy rules test, from the queue row, the extraction and the verdict. */
export function messageFacts(msg: { sender: string; connector: string; size: number }, extracted: Pick<Extracted, 'attachments' | 'encrypted'>, verdict: MessageVerdict, subjectTagged: boolean): MessageFacts {
  return {
    sender: msg.sender,
    connector: msg.connector,
    size: msg.size,
    subjectTagged,
    attachments: extracted.attachments.map((a) => ({ filename: a.filename, contentType: a.contentType })),
    phi: verdict.phi,
    phiConfidence: verdict.phiConfidence,
    notFullyScanned: verdict.notFullyScanned,
    encrypted: extracted.encrypted,
    findings: verdict.findings,
  };
}

/** Pure: the header changes delivery applies, or undefined for none. */
export function messageRewrite(evaluation: Pick<PolicyEvaluation, 'stripSubjectTag' | 'addHeaders'>, subjectTagged: boolean): MessageRewrite | undefined {
  const strip = subjectTagged && evaluation.stripSubjectTag;
  const headers = Object.keys(evaluation.addHeaders).length > 0;
  return strip || headers ? { stripSubjectTag: strip, addHeaders: { ...evaluation.addHeaders } } : undefined;
}

