/**
 * `sealgate doctor`: every check in one list. Each check is a small function
 * (src/doctor/*.ts); this module decides which run for a config.
 */
import { statfs } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import type { DnsResolver } from '../delivery/dns.js';
import { diskCheck } from '../health/readiness.js';
import { configuredCertificates } from '../tls/configured-certificates.js';
import { fail, ok, type DoctorCheck } from './check.js';
import { checkDkim, checkResolver, checkSpf, checkStsAndTlsRpt } from './dns.js';
import { checkCertificatePair, checkPrivate } from './files.js';
import { checkListener, type ListenerSpec } from './listeners.js';

export interface DoctorDeps {
  readonly config: Config;
  /** Where the config came from (shown in the first line). */
  readonly configSource: string;
  readonly hostname: string;
  readonly resolver: DnsResolver;
  readonly trustedCas: readonly string[];
  readonly now: number;
}

/** Pure: the listeners a config opens. */
export function listenerSpecs(config: Config): ListenerSpec[] {
  const out: ListenerSpec[] = config.smtp.listeners.map((l) => ({ label: `smtp ${l.name}`, host: l.host, port: l.port, smtp: true }));
  if (config.portal.enabled) out.push({ label: 'portal', host: config.portal.listen.host, port: config.portal.listen.port, smtp: false });
  if (config.admin.enabled) out.push({ label: 'console', host: config.admin.listen.host, port: config.admin.listen.port, smtp: false });
  if (config.metrics.enabled) out.push({ label: 'metrics', host: config.metrics.host, port: config.metrics.port, smtp: false });
  return out;
}

/** Pure: the organisation's own sending domains (the connectors' senderDomains, wildcards left out). */
export function sendingDomains(config: Config): string[] {
  return [...new Set(config.connectors.flatMap((c) => c.senderDomains ?? []).filter((d) => !d.includes('*')).map((d) => d.toLowerCase()))].slice(0, 20);
}

export async function runDoctor(deps: DoctorDeps): Promise<DoctorCheck[]> {
  const { config } = deps;
  const checks: DoctorCheck[] = [ok('config', `${deps.configSource} is valid`)];
  for (const pair of configuredCertificates(config)) checks.push(await checkCertificatePair(pair, deps.trustedCas, deps.now));
  checks.push(await checkPrivate('master key', resolve(config.keys.masterKeyFile), 'file'));
  for (const f of config.keys.previousKeyFiles) checks.push(await checkPrivate('previous master key', resolve(f), 'file'));
  for (const k of config.dkim.keys) checks.push(await checkPrivate(`DKIM key ${k.selector}._domainkey.${k.domain}`, resolve(k.keyFile), 'file'));
  checks.push(await checkPrivate('data directory', resolve(config.dataDir), 'directory'));
  for (const l of listenerSpecs(config)) checks.push(await checkListener(l, deps.hostname));
  try {
    const s = await statfs(resolve(config.dataDir));
    const availableBytes = Number(s.bavail) * Number(s.bsize);
    const disk = diskCheck({ availableBytes, minFreeBytes: config.smtp.minFreeBytes, maxMessageBytes: config.smtp.maxMessageBytes });
    checks.push(disk.ok ? ok('free disk', `${Math.floor(availableBytes / 1_048_576)} MiB free for the data directory`) : fail('free disk', disk.detail ?? 'low', 'free space on that file system or move dataDir to a larger one'));
  } catch {
    checks.push(ok('free disk', 'the data directory does not exist yet (created on the first start)'));
  }
  const resolverCheck = await checkResolver(deps.resolver, deps.hostname, config.dns.servers);
  checks.push(resolverCheck);
  if (resolverCheck.status !== 'fail') {
    for (const domain of sendingDomains(config)) {
      checks.push(await checkSpf(deps.resolver, domain, deps.hostname));
      checks.push(...(await checkStsAndTlsRpt(deps.resolver, domain)));
    }
    for (const k of config.dkim.keys) checks.push(await checkDkim(deps.resolver, k));
  }
  return checks;
}
