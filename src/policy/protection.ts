/** The protection levels a policy can require, weakest first (strongest wins). */
export const PROTECTIONS = ['none', 'tls', 'verified-tls', 'e2e-or-portal', 'portal'] as const;
export type Protection = (typeof PROTECTIONS)[number];

const rank = (p: Protection): number => PROTECTIONS.indexOf(p);

export function strongestProtection(...ps: readonly Protection[]): Protection {
  return ps.reduce<Protection>((a, p) => (rank(p) > rank(a) ? p : a), 'none');
}
