/**
 * The daemon's end-to-end dependencies for the inspection step: key lookup
 * through the configured discovery, `keys.prefer`, and how copies are built
 * (`keys.smimeRsaOaep`, `keys.sign` with the organisation keys). Each reads
 * the configuration in force, so a reload applies to the next message.
 */
import type { Config } from '../config/schema.js';
import type { Keyring } from '../crypto/keyring.js';
import type { SqlDatabase } from '../db/sql-database.js';
import { isSealgateError } from '../errors.js';
import type { E2eDeps } from '../inspect/worker.js';
import { discoveryDeps } from '../keys/discovery.js';
import { lookupKeys, type LookupDeps } from '../keys/lookup.js';
import { loadOrgPgpSigningKey, loadOrgSmimeSigner } from '../keys/org-store.js';
import type { Logger } from '../log/logger.js';
import type { Spool } from '../spool/spool.js';
import type { CopyDeps } from './copies.js';
import { findRecipientKeys } from './recipient-keys.js';

/**
 * Largest message given an end-to-end copy (bytes). The transforms hold the
 * message in memory (docs/e2e.md, docs/smime.md); a larger one is decided
 * without keys (verified TLS, the portal or a hold).
 */
export const E2E_MAX_BYTES = 50 * 1024 * 1024;

export interface E2eRuntimeContext {
  readonly config: () => Config;
  readonly db: SqlDatabase;
  readonly spool: Spool;
  readonly keyring: Keyring;
  readonly log: Logger;
  readonly now: () => number;
}

/** An organisation key loader that answers undefined (and warns) when there is no such key. */
function orgKey<T>(ctx: E2eRuntimeContext, kind: 'pgp' | 'smime', load: () => Promise<T>): () => Promise<T | undefined> {
  return async () => {
    try {
      return await load();
    } catch (err) {
      if (!isSealgateError(err, 'SG_ORG_KEY_NOT_FOUND')) throw err;
      ctx.log.warn({ event: 'E2E_UNSIGNED', kind }, 'keys.sign is on but there is no organisation key of this kind; the copy goes unsigned');
      return undefined;
    }
  };
}

export function endToEndDeps(ctx: E2eRuntimeContext): E2eDeps {
  let built: { config: Config; deps: Promise<LookupDeps> } | undefined;
  const lookupDeps = (): Promise<LookupDeps> => {
    const config = ctx.config();
    if (built?.config !== config) built = { config, deps: discoveryDeps(config, ctx.db, { now: ctx.now }) };
    return built.deps;
  };
  return {
    findKeys: (address) =>
      findRecipientKeys(address, {
        lookup: async (a) => lookupKeys(a, await lookupDeps()),
        now: ctx.now,
        onError: (code) => ctx.log.warn({ event: 'KEY_LOOKUP_FAILED', code }, 'recipient key lookup failed; deciding without a key'),
      }),
    prefer: () => ctx.config().keys.prefer,
    copies: (): CopyDeps => {
      const keys = ctx.config().keys;
      return {
        spool: ctx.spool,
        rsaOaep: keys.smimeRsaOaep,
        maxBytes: E2E_MAX_BYTES,
        ...(keys.sign
          ? {
              pgpSigningKey: orgKey(ctx, 'pgp', async () => (await loadOrgPgpSigningKey(ctx.db, ctx.keyring)).signingKey),
              smimeSigner: orgKey(ctx, 'smime', () => loadOrgSmimeSigner(ctx.db, ctx.keyring)),
            }
          : {}),
      };
    },
  };
}
