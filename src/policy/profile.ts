/**
 * Effective policy settings for a sender: built-in defaults, then
 * `policy.profiles.global`, the connector's profile, the sender domain's
 * (an exact entry, else the closest "*.parent" entry) and the sender's own,
 * each later layer overriding what it sets. Pure; every setting remembers
 * which layer gave it (`sealgate policy explain`).
 */
import type { Protection } from './protection.js';
import type { PolicyConfig, ProfileSettings } from './schema.js';

export interface EffectiveSettings {
  readonly minimumProtection: Protection;
  readonly phiProtection: Protection;
  readonly sensitiveProtection: Protection;
  readonly identifierProtection: Protection;
  readonly notFullyScannedProtection: Protection;
  readonly subjectTagProtection: Protection;
  readonly stripSubjectTag: boolean;
  readonly e2eDomains: readonly string[];
  /** ms; undefined: portal.expiry alone. A profile can only shorten portal.expiry. */
  readonly portalExpiry: number | undefined;
  /** ms; undefined: archive.retention alone. A profile can only lengthen archive.retention. */
  readonly archiveRetention: number | undefined;
  /** A recipient with a valid key gets E2E whenever any protection is needed. */
  readonly preferEndToEnd: boolean;
}

export type SettingName = keyof EffectiveSettings;

export interface ResolvedSettings {
  readonly settings: EffectiveSettings;
  /** Where each setting came from: "built-in default", "profiles.global", "profiles.connectors.m365" … */
  readonly sources: Readonly<Record<SettingName, string>>;
}

export function builtInSettings(e2eDomains: readonly string[]): EffectiveSettings {
  return {
    minimumProtection: 'none',
    phiProtection: 'verified-tls',
    sensitiveProtection: 'tls',
    identifierProtection: 'verified-tls',
    notFullyScannedProtection: 'verified-tls',
    subjectTagProtection: 'e2e-or-portal',
    stripSubjectTag: true,
    e2eDomains,
    portalExpiry: undefined,
    archiveRetention: undefined,
    preferEndToEnd: true,
  };
}

/** The sender-domain profile key for a domain: exact, else the closest "*.parent". */
function domainKey(profiles: Readonly<Record<string, unknown>>, domain: string): string | undefined {
  const keys = new Map(Object.keys(profiles).map((k) => [k.toLowerCase(), k]));
  if (keys.has(domain)) return keys.get(domain);
  const labels = domain.split('.');
  for (let i = 1; i < labels.length; i++) {
    const k = keys.get(`*.${labels.slice(i).join('.')}`);
    if (k) return k;
  }
  return undefined;
}

export function resolveSettings(policy: PolicyConfig, who: { sender: string; connector: string }, builtIn: EffectiveSettings): ResolvedSettings {
  const settings: Record<string, unknown> = { ...builtIn };
  const sources = Object.fromEntries(Object.keys(builtIn).map((k) => [k, 'built-in default'])) as Record<SettingName, string>;
  const sender = who.sender.toLowerCase();
  const domain = sender.slice(sender.lastIndexOf('@') + 1);
  const layers: [string, ProfileSettings | undefined][] = [['profiles.global', policy.profiles.global]];
  layers.push([`profiles.connectors.${who.connector}`, policy.profiles.connectors[who.connector]]);
  const dk = domain ? domainKey(policy.profiles.senderDomains, domain) : undefined;
  if (dk) layers.push([`profiles.senderDomains.${dk}`, policy.profiles.senderDomains[dk]]);
  const sk = Object.keys(policy.profiles.senders).find((k) => k.toLowerCase() === sender);
  if (sk) layers.push([`profiles.senders.${sk}`, policy.profiles.senders[sk]]);
  for (const [source, layer] of layers) {
    if (!layer) continue;
    for (const [k, v] of Object.entries(layer)) {
      if (v === undefined) continue;
      settings[k] = v;
      sources[k as SettingName] = source;
    }
  }
  return { settings: settings as unknown as EffectiveSettings, sources };
}
