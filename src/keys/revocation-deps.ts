/**
 * The revocation-check dependencies a configuration asks for
 * (keys.revocation): the real HTTP(S) transport through dns.servers and
 * tls.trustedCaFiles, bounded by keys.revocation.timeout. Undefined when
 * checking is off.
 */
import { resolve } from 'node:path';
import type { Config } from '../config/schema.js';
import { createResolver } from '../delivery/dns.js';
import { loadTrustedCas } from '../delivery/engine.js';
import { httpRevocationTransport, type RevocationDeps } from './revocation.js';

export async function revocationDeps(config: Config, now: () => number, loadedCas?: readonly string[]): Promise<RevocationDeps | undefined> {
  const r = config.keys.revocation;
  if (!r.enabled) return undefined;
  // tls.trustedCaFiles, unless the caller has read them already
  const trustedCas = loadedCas ?? (await loadTrustedCas(config.tls.trustedCaFiles.map((f) => resolve(f))));
  const resolver = createResolver({ servers: config.dns.servers, timeoutMs: r.timeout, tries: 1 });
  return { transport: httpRevocationTransport({ resolver, trustedCas }), now, timeoutMs: r.timeout };
}
