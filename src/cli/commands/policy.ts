/**
 * `sealgate policy test FILE.eml --from A --to B,C [--json]`: a dry run of
 * inspection and the per-recipient decision for a message file, probing each
 * recipient domain through dns.servers as a real delivery would. Prints the
 * masked verdict and, per recipient, the method, requirement and reasons.
 * The JSON form is a contract: `recipients[]` with at least `recipient`,
 * `method`, `requirement` and `reasons`.
 */
import type { Command } from 'commander';
import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { resolve } from 'node:path';
import { gatewayHostname, openDatabase } from '../../daemon.js';
import { createResolver } from '../../delivery/dns.js';
import { loadTrustedCas } from '../../delivery/engine.js';
import { addressDomain } from '../../smtp/connector-policy.js';
import { extractMessage } from '../../inspect/extract.js';
import { inspectExtracted } from '../../inspect/verdict.js';
import { decide, defaultProtection, subjectTag } from '../../policy/decide.js';
import { explainProtectedMail, loadProbe, probeDomain, storeProbe } from '../../probe/domain-probe.js';
import { CliExit, EXIT_USAGE, loadForCommand } from '../context.js';

const ADDRESS = /^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/;

export function registerPolicy(program: Command): void {
  const policy = program.command('policy').description('inspection and protection policy');
  policy
    .command('test <file>')
    .description('dry run: inspect a message file and show each recipient\'s method, transport requirement and reasons (probes the recipient domains)')
    .requiredOption('--from <address>', 'envelope sender')
    .requiredOption('--to <addresses>', 'comma-separated recipients')
    .option('--json', 'JSON output (contract: recipients[].recipient, method, requirement, reasons)')
    .action(async (file: string, opts: { from: string; to: string; json?: boolean }, cmd: Command) => {
      const recipients = opts.to.split(',').map((a) => a.trim()).filter(Boolean);
      for (const a of [opts.from, ...recipients]) if (!ADDRESS.test(a)) throw new CliExit(EXIT_USAGE, `"${a.slice(0, 80)}" is not an email address`);
      if (recipients.length === 0) throw new CliExit(EXIT_USAGE, '--to needs at least one recipient');
      try {
        await access(file);
      } catch {
        throw new CliExit(EXIT_USAGE, `cannot read ${file}`);
      }
      const { config } = loadForCommand(cmd);
      const extracted = await extractMessage(createReadStream(file));
      const verdict = inspectExtracted(extracted);
      const { tagged } = subjectTag(extracted.subject);
      const protection = defaultProtection(verdict, tagged);
      const db = await openDatabase(config);
      const capabilities = [];
      try {
        const trustedCas = await loadTrustedCas(config.tls.trustedCaFiles.map((f) => resolve(f)));
        const resolver = createResolver({ servers: config.dns.servers });
        const probed = new Map<string, boolean | undefined>();
        for (const address of recipients) {
          const domain = addressDomain(address);
          if (!probed.has(domain)) {
            let p = await loadProbe(db, domain, Date.now());
            if (!p) {
              p = await probeDomain(domain, { resolver, random: Math.random, port: config.delivery.port, heloName: gatewayHostname(config), trustedCas, timeoutMs: config.probe.timeout, now: Date.now });
              await storeProbe(db, p, { positiveMs: config.probe.positiveTtl, negativeMs: config.probe.negativeTtl });
            }
            probed.set(domain, explainProtectedMail(p).method === 'tls-verified');
          }
          capabilities.push({ address, domain, verifiedTls: probed.get(domain) });
        }
      } finally {
        await db.close();
      }
      const decisions = decide({ protection, recipients: capabilities, portalEnabled: false, e2eDomains: new Set(config.inspection.e2eDomains), phi: verdict.phi });
      const result = {
        from: opts.from,
        verdict: {
          phi: verdict.phi,
          phiConfidence: verdict.phiConfidence,
          notFullyScanned: verdict.notFullyScanned,
          scanReasons: verdict.scanReasons,
          subjectTag: tagged,
          findings: verdict.findings.map((f) => ({ category: f.category, count: f.count, confidence: f.confidence, evidence: f.evidence })),
        },
        protection,
        recipients: decisions.map((d) => ({ recipient: d.recipient, method: d.method, requirement: d.requirement, reasons: d.reasons })),
      };
      if (opts.json) {
        process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }
      const lines = [
        `verdict: ${verdict.phi ? `PHI (${verdict.phiConfidence ?? '?'} confidence)` : 'no PHI'}${verdict.notFullyScanned ? `, not fully scanned (${verdict.scanReasons.join('; ')})` : ''}${tagged ? ', subject tag' : ''}`,
        ...verdict.findings.map((f) => `  ${f.category}: ${f.count} (${f.confidence}) ${f.evidence.join(', ')}`),
        `required protection: ${protection}`,
        'recipients:',
        ...decisions.map((d) => `  ${d.recipient}: ${d.method}, transport ${d.requirement} — ${d.reasons.join('; ')}`),
      ];
      process.stdout.write(`${lines.join('\n')}\n`);
    });
}
