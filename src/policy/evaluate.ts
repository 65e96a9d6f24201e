/**
 * The policy for one message: the sender's effective settings
 * (src/policy/profile.ts) turn the verdict into a base protection, the
 * matching rules (src/policy/rules.ts) raise it per recipient or block /
 * quarantine, and the decision (src/policy/decide.ts) picks each
 * recipient's method. Pure. The result names every reason — settings with
 * their source layer, rule ids — and never a matched value.
 */
import { PERSONAL_ID_CATEGORIES, WEAK_CATEGORIES } from '../inspect/categories.js';
import { decideRecipient, type E2eMethod, type RecipientCapabilities, type RecipientDecision } from './decide.js';
import { resolveSettings, type EffectiveSettings, type ResolvedSettings } from './profile.js';
import { strongestProtection, type Protection } from './protection.js';
import { ruleAppliesTo, ruleMatchesMessage, type MessageFacts } from './rules.js';
import type { PolicyConfig, PolicyRule } from './schema.js';


export interface RecipientPolicy extends RecipientDecision {
  readonly protection: Protection;
  /** Ids of the rules that applied to this recipient. */
  readonly rules: readonly string[];
}

export interface PolicyEvaluation {
  readonly settings: ResolvedSettings;
  readonly baseProtection: Protection;
  readonly baseReasons: readonly string[];
  /** Rules whose message conditions matched (they may apply to only some recipients). */
  readonly matchedRules: readonly string[];
  readonly recipients: readonly RecipientPolicy[];
  /** Addresses to tell that a rule matched (deduplicated). */
  readonly notify: readonly string[];
  readonly stripSubjectTag: boolean;
  readonly addHeaders: Readonly<Record<string, string>>;
}

/** Pure: the protection the settings give a message, and why. */
export function baseProtection(s: EffectiveSettings, sources: Readonly<Record<string, string>>, m: MessageFacts): { protection: Protection; reasons: string[] } {
  const parts: [Protection, string][] = [[s.minimumProtection, `minimumProtection ${s.minimumProtection} (${sources.minimumProtection})`]];
  if (m.phi) parts.push([s.phiProtection, `PHI found: phiProtection ${s.phiProtection} (${sources.phiProtection})`]);
  const identifiers = m.findings.filter((f) => PERSONAL_ID_CATEGORIES.has(f.category) && f.confidence === 'high').map((f) => f.category);
  if (identifiers.length) parts.push([s.identifierProtection, `personal identifiers (${[...new Set(identifiers)].join(', ')}): identifierProtection ${s.identifierProtection} (${sources.identifierProtection})`]);
  const sensitive = m.findings.filter((f) => !WEAK_CATEGORIES.has(f.category) && f.confidence !== 'low').map((f) => f.category);
  if (sensitive.length) parts.push([s.sensitiveProtection, `sensitive findings (${[...new Set(sensitive)].join(', ')}): sensitiveProtection ${s.sensitiveProtection} (${sources.sensitiveProtection})`]);
  if (m.notFullyScanned) parts.push([s.notFullyScannedProtection, `not fully scanned: notFullyScannedProtection ${s.notFullyScannedProtection} (${sources.notFullyScannedProtection})`]);
  if (m.subjectTagged) parts.push([s.subjectTagProtection, `subject tag: subjectTagProtection ${s.subjectTagProtection} (${sources.subjectTagProtection})`]);
  const protection = strongestProtection(...parts.map(([p]) => p));
  const reasons = parts.filter(([p]) => p === protection && p !== 'none').map(([, why]) => why);
  return { protection, reasons };
}

export interface EvaluateInput {
  readonly policy: PolicyConfig;
  readonly builtIn: EffectiveSettings;
  readonly message: MessageFacts;
  readonly recipients: readonly RecipientCapabilities[];
  readonly portalEnabled: boolean;
  /** keys.prefer: S/MIME or OpenPGP when a recipient has both (default smime). */
  readonly prefer?: E2eMethod | undefined;
}

export function evaluatePolicy(input: EvaluateInput): PolicyEvaluation {
  const { message: m } = input;
  const settings = resolveSettings(input.policy, { sender: m.sender, connector: m.connector }, input.builtIn);
  const base = baseProtection(settings.settings, settings.sources, m);
  // a rule naming recipients matches only when one of them is among this message's: otherwise its notify, headers and subject-tag setting do not apply either
  const matched: PolicyRule[] = input.policy.rules.filter((r) => ruleMatchesMessage(r, m) && (!r.when.recipients || input.recipients.some((x) => ruleAppliesTo(r, x.address))));
  const e2eDomains = new Set(settings.settings.e2eDomains.map((d) => d.toLowerCase()));
  const recipients = input.recipients.map((r): RecipientPolicy => {
    const applied = matched.filter((rule) => ruleAppliesTo(rule, r.address));
    const ruleReasons: string[] = [];
    let protection = base.protection;
    for (const rule of applied) {
      if (rule.then.require) {
        const raised = strongestProtection(protection, rule.then.require);
        if (raised !== protection) ruleReasons.push(`rule ${rule.id}: require ${rule.then.require}`);
        protection = raised;
      }
    }
    const blocking = applied.find((rule) => rule.then.action === 'block');
    const holding = applied.find((rule) => rule.then.action === 'quarantine');
    const action = blocking ? 'block' : holding ? 'quarantine' : undefined;
    if (blocking) ruleReasons.push(`rule ${blocking.id}: block`);
    else if (holding) ruleReasons.push(`rule ${holding.id}: quarantine`);
    const decision = decideRecipient({ protection, action, recipients: [], portalEnabled: input.portalEnabled, e2eDomains, phi: m.phi, preferEndToEnd: settings.settings.preferEndToEnd, prefer: input.prefer }, r);
    const preferSource = decision.reasons.some((x) => x.startsWith('preferEndToEnd:')) ? [`preferEndToEnd (${settings.sources.preferEndToEnd})`] : [];
    return { ...decision, protection, rules: applied.map((x) => x.id), reasons: [...base.reasons, ...ruleReasons, ...decision.reasons, ...preferSource] };
  });
  const notify = [...new Set(matched.flatMap((r) => r.then.notify ?? []).map((a) => a.toLowerCase()))];
  const addHeaders: Record<string, string> = {};
  for (const r of matched) Object.assign(addHeaders, r.then.addHeaders ?? {});
  const stripSubjectTag = matched.reduce((strip, r) => r.then.stripSubjectTag ?? strip, settings.settings.stripSubjectTag);
  return { settings, baseProtection: base.protection, baseReasons: base.reasons, matchedRules: matched.map((r) => r.id), recipients, notify, stripSubjectTag, addHeaders };
}
