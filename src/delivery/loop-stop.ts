/**
 * The loop-stop header (docs/m365.md, docs/google-workspace.md): mail the
 * gateway delivers back into the organisation's own domains carries a
 * header with a secret value, so the provider's routing rule that sends
 * external mail to the gateway can skip anything that already went through
 * it. Only mail to the organisation's own domains (the connectors'
 * senderDomains) is stamped: the value never leaves the organisation, so a
 * stranger cannot copy it, and staff never see it on mail from outside.
 */
import { domainMatches } from '../smtp/connector-policy.js';
import type { MessageRewrite } from './header-rewrite.js';

export interface LoopStopSetting {
  readonly name: string;
  readonly secret: string;
}

/** Pure: the connectors' sender-domain patterns that name the organisation's own domains ("*" names everyone and is left out). */
export function ownDomainPatterns(connectors: readonly { readonly senderDomains?: readonly string[] | undefined }[]): string[] {
  return [...new Set(connectors.flatMap((c) => c.senderDomains ?? []).filter((p) => p !== '*').map((p) => p.toLowerCase()))];
}

/** Pure: the header to stamp on mail to `domain`, or undefined. */
export function loopStopStamp(domain: string, own: readonly string[], setting: LoopStopSetting | null): { name: string; value: string } | undefined {
  if (!setting || !own.some((p) => domainMatches(p, domain.toLowerCase()))) return undefined;
  return { name: setting.name, value: setting.secret };
}

/** Pure: a header rewrite with the stamp added (the policy's own rewrite kept). */
export function withStamp(rewrite: MessageRewrite | undefined, stamp: { name: string; value: string } | undefined): MessageRewrite | undefined {
  if (!stamp) return rewrite;
  return { stripSubjectTag: rewrite?.stripSubjectTag ?? false, addHeaders: { ...(rewrite?.addHeaders ?? {}), [stamp.name]: stamp.value } };
}

/** Pure: the bytes the stamp adds ("Name: value\r\n"). */
export function stampBytes(stamp: { name: string; value: string } | undefined): number {
  return stamp ? stamp.name.length + stamp.value.length + 4 : 0;
}
