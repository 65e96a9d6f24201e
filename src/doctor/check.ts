/**
 * `sealgate doctor`'s results: one line per check, each failure and warning
 * with the fix. Pure formatting and the exit rule (0 only when nothing
 * failed; warnings are advice).
 */

export type CheckStatus = 'ok' | 'warn' | 'fail';

export interface DoctorCheck {
  /** What was checked, e.g. `certificate smtp listener relay`. */
  readonly name: string;
  readonly status: CheckStatus;
  /** What was found (no secret, no key material). */
  readonly detail: string;
  /** What to do, for warn and fail. */
  readonly fix?: string;
}

export const ok = (name: string, detail: string): DoctorCheck => ({ name, status: 'ok', detail });
export const warn = (name: string, detail: string, fix: string): DoctorCheck => ({ name, status: 'warn', detail, fix });
export const fail = (name: string, detail: string, fix: string): DoctorCheck => ({ name, status: 'fail', detail, fix });

const MARK: Readonly<Record<CheckStatus, string>> = { ok: '[ ok ]', warn: '[warn]', fail: '[FAIL]' };

export function formatChecklist(checks: readonly DoctorCheck[]): string {
  const lines = checks.map((c) => `${MARK[c.status]} ${c.name}: ${c.detail}${c.fix ? ` — fix: ${c.fix}` : ''}`);
  const n = (s: CheckStatus): number => checks.filter((c) => c.status === s).length;
  lines.push(`${checks.length} checks: ${n('ok')} ok, ${n('warn')} warnings, ${n('fail')} failed`);
  return `${lines.join('\n')}\n`;
}

export function doctorExitCode(checks: readonly DoctorCheck[]): number {
  return checks.some((c) => c.status === 'fail') ? 1 : 0;
}
