/**
 * smtp-server adds an enhanced status code to every reply from its own table,
 * keyed by the basic code alone (it maps every 550 to 5.1.1 "mailbox
 * unavailable", every 554 to 5.6.0). Our replies carry the right enhanced
 * code in their text already ("550 5.7.1 Relay access denied"), so for a reply
 * whose text starts with an enhanced code the library's is left out. Replies
 * the library generates itself keep its codes.
 */
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';

const ENHANCED_PREFIX = /^[245]\.\d{1,3}\.\d{1,3} /;

type Send = (this: unknown, code: number, data?: unknown, context?: unknown) => unknown;

interface Patchable {
  send: Send;
  __sealgateReplyPatch?: true;
}

export function installReplyCodePatch(): void {
  const proto = (SMTPConnection as unknown as { prototype: Patchable }).prototype;
  if (proto.__sealgateReplyPatch) return;
  const original = proto.send;
  proto.send = function send(this: unknown, code: number, data?: unknown, context?: unknown) {
    if (typeof data === 'string' && ENHANCED_PREFIX.test(data)) return original.call(this, code, data, false);
    // smtp-server leaves the code out of every reply whose context is LHLO, as for HELO/EHLO.
    // We never speak LMTP: LHLO is an unknown command, and RFC 2034 exempts only the replies
    // to HELO and EHLO, so its 500 gets 5.5.2 like any other (found by fuzzing)
    if (context === 'LHLO') return original.call(this, code, data, undefined);
    return original.call(this, code, data, context);
  };
  proto.__sealgateReplyPatch = true;
}
