/**
 * Connection reuse: an idle outbound session is parked under its target key
 * (MX address, port, host name, requirement) for a short while, so the next
 * message to the same MX skips connect, greeting, EHLO and STARTTLS.
 */
import type { SmtpSession } from './smtp-session.js';

export function sessionKey(t: { ip: string; port: number; host: string; requirement: string }): string {
  return `${t.ip}|${t.port}|${t.host}|${t.requirement}`;
}

export class SessionPool {
  private readonly idle = new Map<string, { session: SmtpSession; timer: NodeJS.Timeout }[]>();

  constructor(
    private readonly idleMs: number,
    private readonly maxMessages: number,
  ) {}

  take(key: string): SmtpSession | undefined {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const entry = list.pop();
      if (!entry) break;
      clearTimeout(entry.timer);
      if (entry.session.usable) return entry.session;
      entry.session.close();
    }
    this.idle.delete(key);
    return undefined;
  }

  /** Parks a session after a transaction, or closes it if it cannot carry more. */
  async put(key: string, session: SmtpSession): Promise<void> {
    if (this.idleMs === 0 || session.messages >= this.maxMessages || !(await session.reset())) {
      session.close();
      return;
    }
    const timer = setTimeout(() => {
      const list = this.idle.get(key);
      const i = list?.findIndex((e) => e.session === session) ?? -1;
      if (list && i >= 0) list.splice(i, 1);
      session.close();
    }, this.idleMs);
    timer.unref();
    const list = this.idle.get(key) ?? [];
    list.push({ session, timer });
    this.idle.set(key, list);
  }

  closeAll(): void {
    for (const list of this.idle.values()) {
      for (const e of list) {
        clearTimeout(e.timer);
        e.session.close();
      }
    }
    this.idle.clear();
  }
}

/** MX addresses that refused or timed out recently are skipped (dead-host memory). */
export class DeadHosts {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  mark(ip: string): void {
    if (this.ttlMs > 0) this.until.set(ip, this.now() + this.ttlMs);
  }

  isDead(ip: string): boolean {
    const t = this.until.get(ip);
    if (t === undefined) return false;
    if (t <= this.now()) {
      this.until.delete(ip);
      return false;
    }
    return true;
  }
}
