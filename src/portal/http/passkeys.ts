/**
 * Passkeys for portal recipients (docs/portal.md, "Passkeys"): the relying
 * party, the WebAuthn settings, and what the other routes ask of them (is
 * there a passkey offer on this page).
 *
 * Relying party: the RP ID is the host name of the portal's public URL
 * (effectivePublicUrl), the expected origin that URL's origin, the RP name
 * the organisation's name. WebAuthn needs a DNS name (`localhost`,
 * `secure.example.org`), never an IP address: when the public URL's host
 * is an IP literal, passkeys are off — no offer, and their routes answer
 * 404 — and recipients sign in with codes as before.
 */
import { randomBytes } from 'node:crypto';
import { isIP } from 'node:net';
import type { Config } from '../../config/schema.js';
import type { SqlDatabase } from '../../db/sql-database.js';
import { derivePasskeyUserKey, PasskeyStore } from '../passkey-store.js';
import { effectivePublicUrl } from '../public-url.js';
import { ChallengeStore } from './passkey-challenges.js';
import { loadPasskeyScripts, type PasskeyScripts } from './passkey-script.js';

export interface RelyingParty {
  /** The public URL's host name (no port). */
  readonly rpID: string;
  /** The public URL's origin (scheme, host, port). */
  readonly origin: string;
  readonly rpName: string;
}

/**
 * COSE algorithms offered, most preferred first: ES256 (every platform
 * authenticator and security key), EdDSA, RS256 (Windows Hello).
 */
export const PASSKEY_ALGORITHMS = [-7, -8, -257];
/**
 * User verification (the device's fingerprint, face, PIN or screen lock) is
 * required at registration and at every sign-in: a passkey replaces the
 * emailed code, so it must be more than "someone holds this device".
 */
export const USER_VERIFICATION = 'required' as const;

/** Pure: the relying party of this portal, or undefined when its public URL's host is an IP address. */
export function relyingPartyFor(portal: Config['portal']): RelyingParty | undefined {
  let url: URL;
  try {
    url = new URL(effectivePublicUrl(portal));
  } catch {
    return undefined;
  }
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '' || isIP(host) !== 0) return undefined;
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && (host === 'localhost' || host.endsWith('.localhost')))) return undefined;
  return { rpID: host.replace(/\.$/, ''), origin: url.origin, rpName: portal.branding.organisationName };
}

export interface Passkeys {
  /** Undefined: passkeys are off (the public URL's host is an IP address). */
  readonly rp: RelyingParty | undefined;
  readonly store: PasskeyStore;
  readonly challenges: ChallengeStore;
  /** Key of the derived WebAuthn user handles (passkeyUserId). */
  readonly userKey: Buffer;
  readonly scripts: PasskeyScripts;
  readonly random: (n: number) => Buffer;
}

export async function createPasskeys(input: { config: Config['portal']; db: SqlDatabase; csrfKey: Buffer; random?: ((n: number) => Buffer) | undefined }): Promise<Passkeys> {
  return {
    rp: relyingPartyFor(input.config),
    store: new PasskeyStore(input.db),
    challenges: new ChallengeStore(input.db),
    userKey: derivePasskeyUserKey(input.csrfKey),
    scripts: await loadPasskeyScripts(),
    random: input.random ?? randomBytes,
  };
}

/** Whether the message page offers "set up a passkey": passkeys are on and this session signed in with a code. */
export function offersPasskey(passkeys: Passkeys | undefined, session: { readonly method: string }): boolean {
  return passkeys?.rp !== undefined && session.method === 'code';
}
