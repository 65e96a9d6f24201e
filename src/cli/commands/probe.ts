/**
 * `sealgate probe DOMAIN [--json] [--fresh]`: what the recipient domain's MX
 * hosts can do (STARTTLS, TLS version, certificate) and what a protected
 * (PHI) message to it would get, and why.
 */
import type { Command } from 'commander';
import { resolve } from 'node:path';
import { gatewayHostname } from '../../runtime/stores.js';
import { openCommandStore } from '../command-store.js';
import { createResolver } from '../../delivery/dns.js';
import { loadTrustedCas } from '../../delivery/engine.js';
import { explainProtectedMail, loadProbe, probeDomain, storeProbe, type DomainProbe } from '../../probe/domain-probe.js';
import type { ProbedMx, StsFacts } from '../../probe/domain-probe.js';
import { fetchStsPolicyText } from '../../probe/mta-sts-fetch.js';
import { MtaStsResolver } from '../../probe/mta-sts.js';
import { lookupTlsa } from '../../probe/tlsa-dns.js';
import { appendAuditEvent } from '../../audit/log.js';
import { forgetPosture } from '../../probe/posture.js';
import { CliExit, EXIT_USAGE, loadForCommand, operatorName } from '../context.js';

const DOMAIN = /^(?=.{1,253}$)[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+\.?$/i;

function daneLine(r: ProbedMx): string {
  const d = r.dane;
  if (!d) return '';
  if (d.status === 'usable') return d.verified ? `\n      DANE: certificate matches TLSA ${d.matched ?? ''}` : `\n      DANE: certificate does NOT match the TLSA records (${d.reason})`;
  return `\n      DANE: ${d.status === 'lookup-failed' ? `TLSA lookup failed (${d.reason})` : d.reason}`;
}

function stsLine(s: StsFacts | undefined): string | undefined {
  if (!s) return undefined;
  const kept = s.source === 'stale' ? ` (cached policy kept: refreshing failed: ${s.error ?? '?'})` : s.error ? ` (${s.error})` : '';
  if (s.mode === 'none') return `MTA-STS: no policy${kept}`;
  return `MTA-STS: ${s.mode} (id ${s.id ?? '?'}), mx ${s.mx.join(', ')}${kept}`;
}

function mxLine(r: ProbedMx): string {
  return mxFacts(r) + daneLine(r);
}

function mxFacts(r: ProbedMx): string {
  const where = `${r.mx} [${r.ip}]:${r.port}`;
  if (!r.reachable) return `  ${where}  unreachable: ${r.error ?? 'no answer'}`;
  if (!r.starttls) return `  ${where}  no STARTTLS (cleartext only)`;
  const c = r.certificate;
  const cert = c
    ? `certificate ${c.subject || '(no CN)'} from ${c.issuer || '?'}: ${c.chainValid ? 'chain valid' : `chain NOT valid (${c.chainError ?? '?'})`}, ${c.nameMatches ? 'name matches' : 'name does NOT match'}, ${c.expired ? 'EXPIRED' : `expires ${c.notAfter.slice(0, 10)}`}`
    : 'no certificate';
  return `  ${where}  STARTTLS ${r.tlsVersion ?? '?'} ${r.cipher ?? ''}  ${cert}`;
}

export function formatProbe(p: DomainProbe): string {
  const lines = [`${p.domain}: ${p.route === 'mx' ? `${p.mx.length} MX address${p.mx.length === 1 ? '' : 'es'}` : p.route}${p.cached ? ` (cached, probed ${new Date(p.probedAt).toISOString()})` : ''}`];
  const sts = stsLine(p.mtaSts);
  if (sts) lines.push(sts);
  for (const r of p.mx) lines.push(mxLine(r));
  const verdict = explainProtectedMail(p);
  lines.push('');
  lines.push(
    // the outcome comes from deliveryOutlook, the function `policy test` uses for each recipient too
    verdict.outcome === 'delivers'
      ? `A PHI message (needs verified TLS) would be delivered over verified TLS via ${verdict.via ?? '?'}.`
      : verdict.outcome === 'bounces'
        ? 'Any message to this domain would bounce:'
        : 'A PHI message (needs verified TLS) would NOT be delivered in cleartext: it waits in the queue (and goes to the secure portal once that exists) because:',
  );
  for (const r of verdict.reasons) lines.push(`  - ${r}`);
  return lines.join('\n');
}

export function registerProbe(program: Command): void {
  program
    .command('probe <domain> [accepted]')
    .usage('DOMAIN [--json] [--fresh] | accept DOMAIN')
    .description('probe a recipient domain\'s MX hosts (STARTTLS, TLS version, certificate) and explain what protected mail to it would get; "probe accept DOMAIN" forgets the transport security remembered for it after a deliberate change')
    .option('--json', 'JSON output')
    .option('--fresh', 'ignore the cached result and probe now')
    .action(async (first: string, second: string | undefined, opts: { json?: boolean; fresh?: boolean }, cmd: Command) => {
      const accept = first === 'accept';
      if (!accept && second !== undefined) throw new CliExit(EXIT_USAGE, `unexpected argument "${second.slice(0, 80)}": use "sealgate probe DOMAIN" or "sealgate probe accept DOMAIN"`);
      const domainArg = accept ? (second ?? '') : first;
      const domain = domainArg.toLowerCase().replace(/\.$/, '');
      if (!DOMAIN.test(domain)) throw new CliExit(EXIT_USAGE, `"${domainArg.slice(0, 80)}" is not a domain name`);
      const { config } = loadForCommand(cmd);
      const db = await openCommandStore(config);
      try {
        if (accept) {
          const forgotten = await db.transaction(async (tx) => {
            const had = await forgetPosture(tx, domain);
            await appendAuditEvent(tx, { type: 'probe:posture_accepted', data: { domain, operator: operatorName() } }, Date.now());
            return had;
          });
          process.stdout.write(forgotten ? `${domain}: remembered transport security forgotten; the next delivery sets it again\n` : `${domain}: nothing remembered\n`);
          return;
        }
        let result = opts.fresh ? undefined : await loadProbe(db, domain, Date.now());
        if (!result) {
          const resolver = createResolver({ servers: config.dns.servers });
          const trustedCas = await loadTrustedCas(config.tls.trustedCaFiles.map((f) => resolve(f)));
          const sts = config.tls.mtaSts;
          const stsResolver = sts.enabled
            ? new MtaStsResolver({ db, resolver, now: Date.now, recheckMs: 0, fetchText: (d) => fetchStsPolicyText(d, { resolver, port: sts.httpsPort, trustedCas, timeoutMs: sts.fetchTimeout, maxBytes: 64 * 1024 }) })
            : undefined;
          result = await probeDomain(domain, {
            resolver,
            mtaSts: stsResolver ? (d) => stsResolver.policyFor(d, true) : undefined,
            tlsa: config.dns.dnssecValidating ? (h) => lookupTlsa(h, { servers: config.dns.servers, port: config.delivery.port }) : undefined,
            random: Math.random,
            port: config.delivery.port,
            heloName: gatewayHostname(config),
            trustedCas,
            timeoutMs: config.probe.timeout,
            now: Date.now,
          });
          await storeProbe(db, result, { positiveMs: config.probe.positiveTtl, negativeMs: config.probe.negativeTtl });
        }
        const verdict = explainProtectedMail(result);
        process.stdout.write(`${opts.json ? JSON.stringify({ ...result, protectedMail: verdict }) : formatProbe(result)}\n`);
      } finally {
        await db.close();
      }
    });
}
