/**
 * The discovery dependencies a configuration asks for: the key directory and
 * lookup cache in the gateway database, and one transport per enabled
 * discovery source. One place builds them, so `sealgate keys lookup` and the
 * inspection step (which looks up each recipient's key before the decision)
 * discover keys the same way.
 */
import { resolve } from 'node:path';
import type * as pkijs from 'pkijs';
import type { Config } from '../config/schema.js';
import type { SqlDatabase } from '../db/sql-database.js';
import { createResolver } from '../delivery/dns.js';
import { loadTrustedCas } from '../delivery/engine.js';
import { dnssecKeyTransport } from './dns-fetch.js';
import { httpsKeyserverTransport, parseKeyserverUrl } from './keyserver.js';
import { SqlLookupCache } from './lookup-cache.js';
import type { LookupDeps } from './lookup.js';
import { SqlKeyDirectory } from './store.js';
import { loadTrustRoots } from './trust-roots.js';
import { revocationDeps } from './revocation-deps.js';
import { httpsWkdTransport } from './wkd-fetch.js';

export async function discoveryDeps(config: Config, db: SqlDatabase, opts: { now: () => number; fresh?: boolean; operator?: string }): Promise<LookupDeps> {
  const d = config.keys.discovery;
  const trustedCas = await loadTrustedCas(config.tls.trustedCaFiles.map((f) => resolve(f)));
  const resolver = createResolver({ servers: config.dns.servers, timeoutMs: d.timeout, tries: 1 });
  const wkd = d.wkd ? httpsWkdTransport({ resolver, port: d.httpsPort, trustedCas }) : undefined;
  // DNS answers count only DNSSEC-authenticated, and the AD bit means that only from a validating resolver.
  const dnsOff = !d.dns ? 'keys.discovery.dns: false' : !config.dns.dnssecValidating ? 'dns.dnssecValidating: false, so an answer could not be trusted' : undefined;
  const origin = d.keyserver === null ? undefined : parseKeyserverUrl(d.keyserver);
  let roots: Promise<readonly pkijs.Certificate[]> | undefined;
  const revocation = await revocationDeps(config, opts.now, trustedCas);
  return {
    directory: new SqlKeyDirectory(db),
    cache: new SqlLookupCache(db),
    wkd,
    ...(dnsOff === undefined ? { dns: dnssecKeyTransport(config.dns.servers) } : { dnsOff }),
    ...(origin ? { keyserver: { transport: httpsKeyserverTransport({ origin, resolver, trustedCas }), host: origin.host } } : {}),
    smimeRoots: () => (roots ??= loadTrustRoots(config.keys.smimeTrustRoots).then((r) => r.certs)),
    now: opts.now,
    timeoutMs: d.timeout,
    prefer: config.keys.prefer,
    ...(revocation ? { revocation: { deps: revocation, maxAgeMs: config.keys.revocation.maxAge } } : {}),
    ttl: { positiveMs: d.positiveTtl, negativeMs: d.negativeTtl },
    ...(opts.fresh !== undefined ? { fresh: opts.fresh } : {}),
    ...(opts.operator !== undefined ? { operator: opts.operator } : {}),
  };
}
