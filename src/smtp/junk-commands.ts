/**
 * A limit on commands that move no mail (NOOP, RSET, VRFY, HELP), as
 * Postfix's smtpd_junk_command_limit: without it a client can keep a session
 * (and a slot of smtp.maxConnections) open for ever with a NOOP just before
 * each idle timeout, or spin the server with them. The count is per session
 * and starts again after every accepted message, so an MTA that sends RSET
 * between the messages of a long reused connection never reaches it.
 *
 * Past `smtp.maxJunkCommands` the session gets
 * `421 4.7.0 <hostname> Too many commands that send no mail` and is closed
 * (smtp-server's send() closes after any 421).
 *
 * A small extension, installed once like bdat.ts: the four handlers are
 * wrapped (`handler_NOOP`, `handler_RSET`, `handler_VRFY`, `handler_HELP`);
 * the limit and a notification hook are read from the server's options on
 * every command, so a reload applies to open sessions. `resetJunkCount`
 * is called by the ingress when a message is queued.
 */
import type { SMTPServerSession } from 'smtp-server';
import { SMTPConnection } from 'smtp-server/lib/smtp-connection.js';
import { ERROR_CODES } from '../errors.js';

export interface JunkCommandOptions {
  /** Commands that send no mail allowed per session between accepted messages; 0 or absent: no limit. */
  maxJunkCommands?: number;
  /** Called when a session is closed for too many of them, before the 421. */
  onJunkLimit?: (session: SMTPServerSession) => void;
}

type Callback = () => void;

interface ConnectionInternals {
  name: string;
  session: SMTPServerSession;
  _server: { options: JunkCommandOptions };
  send(code: number, data?: unknown, context?: unknown): void;
}

const JUNK = Symbol('sealgate.junkCommands');
const COMMANDS = ['handler_NOOP', 'handler_RSET', 'handler_VRFY', 'handler_HELP'] as const;
const LIMIT = ERROR_CODES.SG_TOO_MANY_JUNK_COMMANDS;

type Counted = SMTPServerSession & { [JUNK]?: number };

/** Pure: whether the `count`-th junk command of a session is over `limit` (0: no limit). */
export function overJunkLimit(count: number, limit: number | undefined): boolean {
  return limit !== undefined && limit > 0 && count > limit;
}

/** A message was accepted in this session: the count starts again. */
export function resetJunkCount(session: SMTPServerSession): void {
  (session as Counted)[JUNK] = 0;
}

let installed = false;

export function installJunkCommandLimit(): void {
  if (installed) return;
  installed = true;
  const proto = (SMTPConnection as unknown as { prototype: Record<string, unknown> }).prototype;
  for (const name of COMMANDS) {
    const original = proto[name] as (this: ConnectionInternals, command: Buffer, callback: Callback) => void;
    proto[name] = function (this: ConnectionInternals, command: Buffer, callback: Callback) {
      const session = this.session as Counted;
      const count = (session[JUNK] ?? 0) + 1;
      session[JUNK] = count;
      if (overJunkLimit(count, this._server.options.maxJunkCommands)) {
        this._server.options.onJunkLimit?.(this.session);
        this.send(LIMIT.smtp.code, `${LIMIT.smtp.enhanced} ${this.name} ${LIMIT.message}`);
        return callback();
      }
      original.call(this, command, callback);
    };
  }
}
