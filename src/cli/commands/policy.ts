/**
 * `sealgate policy test FILE.eml --from A --to B,C [--json]`: a dry run of
 * inspection, the policy rules and the per-recipient decision for a message
 * file, probing each recipient domain through dns.servers as a real delivery
 * would (the probe cache and key directory of the configured database,
 * SQLite or the shared PostgreSQL). Prints the masked verdict, the matched
 * rules and, per recipient, the method, requirement and reasons. The JSON
 * form is a contract:
 * `recipients[]` with at least `recipient`, `method`, `requirement` and
 * `reasons`.
 *
 * `sealgate policy explain --from A --to B [--json]`: the effective settings
 * for the sender with the profile layer each came from, and the rules that
 * can apply to each recipient.
 */
import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { gatewayHostname } from '../../runtime/stores.js';
import { openCommandStore } from '../command-store.js';
import { createResolver } from '../../delivery/dns.js';
import { loadTrustedCas } from '../../delivery/engine.js';
import type { Config } from '../../config/schema.js';
import { addressDomain, domainMatches } from '../../smtp/connector-policy.js';
import { extractMessage } from '../../inspect/extract.js';
import { explainVerdict, type VerdictExplanation } from '../../inspect/explain.js';
import { inspectExtracted, inspectionProfile, subjectSensitive } from '../../inspect/verdict.js';
import { skippedSampleValues } from '../../inspect/detect/sample-values.js';
import { subjectTag, type RecipientCapabilities } from '../../policy/decide.js';
import { findRecipientKeys, keyCapabilities } from '../../e2e/recipient-keys.js';
import { discoveryDeps } from '../../keys/discovery.js';
import { lookupKeys } from '../../keys/lookup.js';
import { evaluatePolicy } from '../../policy/evaluate.js';
import { builtInSettings, resolveSettings, type SettingName } from '../../policy/profile.js';
import { addressMatches, ruleAppliesTo } from '../../policy/rules.js';
import type { PolicyRule } from '../../policy/schema.js';
import { messageFacts } from '../../policy/message-facts.js';
import { explainProtectedMail, loadProbe, probeDomain, storeProbe, type DomainProbe } from '../../probe/domain-probe.js';
import { recipientOutlook, type RecipientOutlook } from '../../policy/outlook.js';
import { CliExit, EXIT_USAGE, loadForCommand } from '../context.js';
import { registerPolicyReplay } from './policy-replay.js';

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

/** The connector a sender's mail would come through: --connector, else the first whose sender domains allow it. */
function connectorFor(config: Config, sender: string, named: string | undefined): string {
  if (named !== undefined) {
    if (!config.connectors.some((c) => c.name === named)) throw new CliExit(EXIT_USAGE, `unknown connector "${named.slice(0, 60)}"; name one of: ${config.connectors.map((c) => c.name).join(', ')}`);
    return named;
  }
  const domain = addressDomain(sender);
  return (config.connectors.find((c) => c.senderDomains.some((p) => domainMatches(p, domain))) ?? config.connectors[0])?.name ?? '';
}

function recipientsOf(to: string, from: string): string[] {
  const recipients = to.split(',').map((a) => a.trim()).filter(Boolean);
  for (const a of [from, ...recipients]) if (!ADDRESS.test(a)) throw new CliExit(EXIT_USAGE, `"${a.slice(0, 80)}" is not an email address`);
  if (recipients.length === 0) throw new CliExit(EXIT_USAGE, '--to needs at least one recipient');
  return recipients;
}

/** Probes (or reads from the cache) each recipient domain, as a real delivery would. */
async function capabilitiesOf(config: Config, recipients: readonly string[]): Promise<{ capabilities: RecipientCapabilities[]; probes: Map<string, DomainProbe> }> {
  const db = await openCommandStore(config);
  const capabilities: RecipientCapabilities[] = [];
  const probes = new Map<string, DomainProbe>();
  try {
    const trustedCas = await loadTrustedCas(config.tls.trustedCaFiles.map((f) => resolve(f)));
    const resolver = createResolver({ servers: config.dns.servers });
    const probed = new Map<string, boolean | undefined>();
    const lookup = await discoveryDeps(config, db, { now: Date.now });
    for (const address of recipients) {
      const domain = addressDomain(address);
      if (!probed.has(domain)) {
        let p = await loadProbe(db, domain, Date.now());
        if (!p) {
          p = await probeDomain(domain, { resolver, random: Math.random, port: config.delivery.port, heloName: gatewayHostname(config), trustedCas, timeoutMs: config.probe.timeout, now: Date.now });
          await storeProbe(db, p, { positiveMs: config.probe.positiveTtl, negativeMs: config.probe.negativeTtl });
        }
        probed.set(domain, explainProtectedMail(p).method === 'tls-verified');
        probes.set(domain, p);
      }
      // the keys delivery would use: discovery as configured, then the directory's valid key of each kind
      const keys = await findRecipientKeys(address, { lookup: (a) => lookupKeys(a, lookup), now: Date.now });
      capabilities.push({ address, domain, verifiedTls: probed.get(domain), ...keyCapabilities(keys) });
    }
  } finally {
    await db.close();
  }
  return { capabilities, probes };
}


/** One recipient's outlook as text, in the words `sealgate probe` uses. */
export function outcomeLine(o: RecipientOutlook): string {
  const what = o.outcome === 'delivers' ? `delivers${o.via ? ` via ${o.via}` : ''}` : o.outcome === 'waits' ? 'waits in the queue (retried, never sent weaker)' : o.outcome === 'bounces' ? 'bounces (permanent)' : o.outcome;
  return o.reasons.length ? `${what} — ${o.reasons.join('; ')}` : what;
}

/** The --explain section of `policy test`'s text output. */
function explanationLines(e: VerdictExplanation): string[] {
  return [
    `why (${e.verdict}):`,
    ...e.why.map((w) => `  ${w}`),
    'findings:',
    ...e.findings.flatMap((f) => [
      `  ${f.category} (${f.detector}): ${f.count}, ${f.confidence} — ${f.because}`,
      ...f.matches.map((m) => `    ${m.evidence}: ${m.confidence}${m.validator ? `, passes the ${m.validator}` : ''}${m.keyword ? `, keyword "${m.keyword.keyword}" ${m.keyword.distance} characters away` : ''}`),
    ]),
    `individuals named: ${e.individuals.length ? '' : 'none'}`,
    ...e.individuals.map((i) => `  ${i.evidence} (${i.kind})`),
  ];
}

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('inspection and protection policy');
  policy
    .command('test <file>')
    .description('dry run: inspect a message file and show the matched rules and each recipient\'s method, transport requirement and reasons (probes the recipient domains)')
    .requiredOption('--from <address>', 'envelope sender')
    .requiredOption('--to <addresses>', 'comma-separated recipients')
    .option('--connector <name>', 'the connector the message comes through (default: the first that allows the sender\'s domain)')
    .option('--json', 'JSON output (contract: recipients[].recipient, method, requirement, reasons)')
    .option('--explain', 'also say why: per finding the check it passed and the keyword and its distance, the individuals named, and why the verdict is PHI, sensitive or clean')
    .action(async (file: string, opts: { from: string; to: string; connector?: string; json?: boolean; explain?: boolean }, cmd: Command) => {
      const recipients = recipientsOf(opts.to, opts.from);
      let size: number;
      try {
        size = (await stat(file)).size;
      } catch {
        throw new CliExit(EXIT_USAGE, `cannot read ${file}`);
      }
      const { config } = loadForCommand(cmd);
      const connector = connectorFor(config, opts.from, opts.connector);
      const extracted = await extractMessage(createReadStream(file));
      const profile = inspectionProfile(config.inspection.customDetectors);
      const verdict = inspectExtracted(extracted, profile);
      const explanation = opts.explain ? explainVerdict(extracted.texts, verdict, profile, extracted.readerNames, extracted.authorNames, extracted.personalAuthor) : undefined;
      const skipped = skippedSampleValues(extracted.texts);
      const { tagged } = subjectTag(extracted.subject);
      const { capabilities, probes } = await capabilitiesOf(config, recipients);
      const evaluation = evaluatePolicy({
        policy: config.policy,
        builtIn: builtInSettings(config.inspection.e2eDomains),
        message: messageFacts({ sender: opts.from, connector, size }, extracted, verdict, tagged),
        recipients: capabilities,
        portalEnabled: false,
        prefer: config.keys.prefer,
      });
      const result = {
        from: opts.from,
        connector,
        verdict: {
          phi: verdict.phi,
          phiConfidence: verdict.phiConfidence,
          phiRule: verdict.phiBasis?.rule,
          notFullyScanned: verdict.notFullyScanned,
          scanReasons: verdict.scanReasons,
          subjectTag: tagged,
          subjectSensitive: subjectSensitive(extracted.subject, inspectionProfile(config.inspection.customDetectors)),
          findings: verdict.findings.map((f) => ({ category: f.category, count: f.count, confidence: f.confidence, evidence: f.evidence })),
          // sample values (e.g. 123-45-6789) the detectors skip: the class and a count, never the value
          skipped: skipped.map((s) => ({ category: s.category, reason: s.reason, count: s.count })),
        },
        protection: evaluation.baseProtection,
        rules: evaluation.matchedRules,
        notify: evaluation.notify,
        headers: { stripSubjectTag: tagged && evaluation.stripSubjectTag, add: evaluation.addHeaders },
        recipients: evaluation.recipients.map((d) => ({
          recipient: d.recipient, method: d.method, requirement: d.requirement, protection: d.protection, rules: d.rules, reasons: d.reasons, ...(d.key ? { key: d.key } : {}),
          // the same outlook `sealgate probe` prints for the domain
          delivery: recipientOutlook(d, probes.get(addressDomain(d.recipient))),
        })),
        ...(explanation ? { explanation } : {}),
      };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const lines = [
        `verdict: ${verdict.phi ? `PHI (${verdict.phiConfidence ?? '?'} confidence${verdict.phiBasis ? `, ${verdict.phiBasis.rule}` : ''})` : 'no PHI'}${verdict.notFullyScanned ? `, not fully scanned (${verdict.scanReasons.join('; ')})` : ''}${tagged ? ', subject tag' : ''}`,
        ...verdict.findings.map((f) => `  ${f.category}: ${f.count} (${f.confidence}) ${f.evidence.join(', ')}`),
        ...skipped.map((s) => `  ${s.category}: skipped: ${s.reason} (${s.count}, not counted)`),
        `required protection: ${evaluation.baseProtection}${evaluation.baseReasons.length ? ` (${evaluation.baseReasons.join('; ')})` : ''}`,
        `rules matched: ${evaluation.matchedRules.length ? evaluation.matchedRules.join(', ') : 'none'}`,
        ...(evaluation.notify.length ? [`notify: ${evaluation.notify.join(', ')}`] : []),
        'recipients:',
        ...result.recipients.flatMap((d) => [
          `  ${d.recipient}: ${d.method}${d.key ? ` with key ${d.key.fingerprint} (${d.key.source})` : ''}, transport ${d.requirement} — ${d.reasons.join('; ')}`,
          `    delivery: ${outcomeLine(d.delivery)}`,
        ]),
        ...(explanation ? explanationLines(explanation) : []),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });

  policy
    .command('explain')
    .description('show the effective policy settings for a sender (and where each came from), and the rules that could apply to each recipient')
    .requiredOption('--from <address>', 'envelope sender')
    .requiredOption('--to <addresses>', 'comma-separated recipients')
    .option('--connector <name>', 'the connector the message comes through (default: the first that allows the sender\'s domain)')
    .option('--json', 'JSON output')
    .action((opts: { from: string; to: string; connector?: string; json?: boolean }, cmd: Command) => {
      const recipients = recipientsOf(opts.to, opts.from);
      const { config } = loadForCommand(cmd);
      const connector = connectorFor(config, opts.from, opts.connector);
      const resolved = resolveSettings(config.policy, { sender: opts.from, connector }, builtInSettings(config.inspection.e2eDomains));
      const rules = config.policy.rules.filter((r) => !r.when.senders || r.when.senders.some((p) => addressMatches(p, opts.from))).filter((r) => !r.when.connectors || r.when.connectors.includes(connector));
      const perRecipient = recipients.map((address) => ({ recipient: address, rules: rules.filter((r) => ruleAppliesTo(r, address)).map((r) => r.id) }));
      const settings = Object.entries(resolved.settings).map(([name, value]) => ({ name, value: (value ?? null) as unknown, source: resolved.sources[name as SettingName] }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ from: opts.from, connector, settings, rules: rules.map((r) => ({ id: r.id, description: r.description, when: r.when, then: r.then })), recipients: perRecipient })}\n`);
        return;
      }
      const show = (v: unknown, name: string): string =>
        name === 'portalExpiry' ? (typeof v === 'number' ? `${formatDuration(v)} (at most portal.expiry)` : 'portal.expiry') :
        name === 'archiveRetention' ? (typeof v === 'number' ? `${formatDuration(v)} (at least archive.retention)` : 'archive.retention') : Array.isArray(v) ? (v.length > 6 ? `${v.slice(0, 6).join(', ')} … (${v.length})` : v.join(', ')) : String(v);
      const lines = [
        `sender ${opts.from} via connector ${connector}`,
        'effective settings:',
        ...settings.map((x) => `  ${x.name} = ${show(x.value, x.name)}   [${x.source}]`),
        `rules that can match this sender and connector (in order):${rules.length ? '' : ' none'}`,
        ...rules.map((r) => `  ${r.id}${r.description ? ` — ${r.description}` : ''}: when ${describeWhen(r)} then ${describeThen(r)}`),
        'per recipient:',
        ...perRecipient.map((p) => `  ${p.recipient}: ${p.rules.length ? p.rules.join(', ') : 'no rule names this recipient; the settings above apply'}`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
  registerPolicyReplay(policy);
}

function describeWhen(r: PolicyRule): string {
  const w = r.when;
  const parts: string[] = [];
  if (w.categories) parts.push(`any of ${w.categories.map((c) => `${c.category}≥${c.minCount} (${c.minConfidence})`).join(', ')}`);
  if (w.phi !== undefined) parts.push(`phi=${w.phi}`);
  if (w.notFullyScanned !== undefined) parts.push(`notFullyScanned=${w.notFullyScanned}`);
  if (w.encrypted !== undefined) parts.push(`encrypted=${w.encrypted}`);
  if (w.subjectTag !== undefined) parts.push(`subjectTag=${w.subjectTag}`);
  if (w.senders) parts.push(`sender in ${w.senders.join(', ')}`);
  if (w.recipients) parts.push(`recipient in ${w.recipients.join(', ')}`);
  if (w.connectors) parts.push(`connector in ${w.connectors.join(', ')}`);
  if (w.attachmentTypes) parts.push(`attachment ${w.attachmentTypes.join(', ')}`);
  if (w.minSize !== undefined) parts.push(`size≥${w.minSize}`);
  if (w.maxSize !== undefined) parts.push(`size≤${w.maxSize}`);
  return parts.length ? parts.join(' and ') : 'always';
}

function describeThen(r: PolicyRule): string {
  const t = r.then;
  const parts: string[] = [];
  if (t.require) parts.push(`require ${t.require}`);
  if (t.action) parts.push(t.action);
  if (t.notify) parts.push(`notify ${t.notify.join(', ')}`);
  if (t.stripSubjectTag !== undefined) parts.push(`stripSubjectTag=${t.stripSubjectTag}`);
  if (t.addHeaders) parts.push(`add headers ${Object.keys(t.addHeaders).join(', ')}`);
  return parts.join(', ');
}

/** Pure: ms as the largest whole unit that divides it (7d, 36h, 90m, 45s, 1500ms). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms >= size && ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}
