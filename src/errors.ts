/**
 * One error type for the whole gateway. Every failure a caller may need to
 * tell apart carries a stable `code` (match on it, never on the message), a
 * `temporary` flag and, where the failure ends up as an SMTP reply, the reply
 * code and enhanced status code. Messages never contain message content or
 * full addresses: they reach logs and remote peers.
 *
 * The table in docs/errors.md gives each code its meaning and the operator's
 * action; keep the two in step.
 */

export interface SmtpReply {
  /** Basic reply code, e.g. 550. */
  readonly code: number;
  /** Enhanced status code (RFC 3463), e.g. '5.7.1'. */
  readonly enhanced: string;
}

interface ErrorSpec {
  readonly message: string;
  readonly temporary: boolean;
  readonly smtp?: SmtpReply;
}

/** The registry: stable code → default text, temporariness and SMTP reply. */
export const ERROR_CODES = {
  // configuration and usage (CLI exit code 2)
  SG_CONFIG_INVALID: { message: 'configuration is invalid', temporary: false },
  SG_CONFIG_NOT_FOUND: { message: 'configuration file not found', temporary: false },
  SG_USAGE: { message: 'invalid usage', temporary: false },

  // connection and session policy
  SG_CLIENT_NOT_ALLOWED: {
    message: 'Client host not authorized to use this server',
    temporary: false,
    smtp: { code: 554, enhanced: '5.7.1' },
  },
  // the refusal names the rule: a connector preset (kind m365 / workspace) admits only its provider's ranges
  SG_CLIENT_NOT_IN_PRESET_RANGES: {
    message: "Client host not authorized: address not in the provider's published sending ranges (connector kind m365/workspace) or any connector's allowIps",
    temporary: false,
    smtp: { code: 554, enhanced: '5.7.1' },
  },
  SG_TOO_MANY_CONNECTIONS: {
    message: 'Too many connections, try again later',
    temporary: true,
    smtp: { code: 421, enhanced: '4.7.0' },
  },
  SG_SHUTTING_DOWN: {
    message: 'Service shutting down, try again later',
    temporary: true,
    smtp: { code: 421, enhanced: '4.3.2' },
  },
  SG_TLS_REQUIRED: {
    message: 'Must issue a STARTTLS command first',
    temporary: false,
    smtp: { code: 530, enhanced: '5.7.0' },
  },
  // temporary on purpose: a mismatch is nearly always a rotated or misconfigured
  // connector certificate, and the tenant's MTA must keep the mail until it is fixed
  SG_CLIENT_CERT_REQUIRED: {
    message: 'A valid client certificate is required for this connector',
    temporary: true,
    smtp: { code: 451, enhanced: '4.7.1' },
  },
  // temporary like SG_CLIENT_CERT_REQUIRED: a renamed tenant certificate must not bounce staff mail
  SG_CLIENT_CERT_NAME_MISMATCH: {
    message: "Client certificate name does not match this connector's clientCertNames",
    temporary: true,
    smtp: { code: 451, enhanced: '4.7.1' },
  },
  SG_AUTH_REQUIRED: {
    message: 'Authentication required',
    temporary: false,
    smtp: { code: 530, enhanced: '5.7.0' },
  },
  SG_AUTH_FAILED: {
    message: 'Authentication credentials invalid',
    temporary: false,
    smtp: { code: 535, enhanced: '5.7.8' },
  },
  SG_AUTH_NOT_ALLOWED: {
    message: 'Authenticated user may not relay through this connection',
    temporary: false,
    smtp: { code: 550, enhanced: '5.7.1' },
  },
  SG_SENDER_DOMAIN_NOT_ALLOWED: {
    message: 'Sender address rejected: domain not allowed for this connector',
    temporary: false,
    smtp: { code: 550, enhanced: '5.7.1' },
  },
  SG_RELAY_DENIED: {
    message: 'Relay access denied',
    temporary: false,
    smtp: { code: 554, enhanced: '5.7.1' },
  },
  SG_BAD_SENDER_SYNTAX: {
    message: 'Bad sender address syntax',
    temporary: false,
    smtp: { code: 501, enhanced: '5.1.7' },
  },
  SG_BAD_RECIPIENT_SYNTAX: {
    message: 'Bad recipient address syntax',
    temporary: false,
    smtp: { code: 501, enhanced: '5.1.3' },
  },
  SG_TOO_MANY_RECIPIENTS: {
    message: 'Too many recipients',
    temporary: true,
    smtp: { code: 452, enhanced: '4.5.3' },
  },
  // 452, not 5xx (RFC 5321 4.5.3.1.10): the client may send the rest in another transaction
  SG_NULL_SENDER_TOO_MANY_RECIPIENTS: {
    message: 'Too many recipients for a null-sender message',
    temporary: true,
    smtp: { code: 452, enhanced: '4.5.3' },
  },
  SG_ADDRESS_LITERAL: {
    message: 'Address literals are not accepted: a protected recipient cannot be verified by name, MTA-STS or DANE',
    temporary: false,
    smtp: { code: 550, enhanced: '5.1.2' },
  },
  SG_COMMAND_TIMEOUT: {
    message: 'Command line timeout',
    temporary: true,
    smtp: { code: 421, enhanced: '4.4.2' },
  },
  SG_TOO_MANY_JUNK_COMMANDS: {
    message: 'Too many commands that send no mail',
    temporary: true,
    smtp: { code: 421, enhanced: '4.7.0' },
  },

  // message content
  SG_MESSAGE_TOO_BIG: {
    message: 'Message size exceeds fixed maximum message size',
    temporary: false,
    smtp: { code: 552, enhanced: '5.3.4' },
  },
  SG_HEADER_TOO_BIG: {
    message: 'Message header size exceeds limit',
    temporary: false,
    smtp: { code: 552, enhanced: '5.3.4' },
  },
  SG_BARE_LINE_ENDING: {
    message: 'Message contains bare CR or LF line endings',
    temporary: false,
    smtp: { code: 550, enhanced: '5.6.0' },
  },
  SG_TOO_MANY_HOPS: {
    message: 'Too many hops',
    temporary: false,
    smtp: { code: 554, enhanced: '5.4.6' },
  },
  SG_DATA_TIMEOUT: {
    message: 'Message transfer took too long',
    temporary: true,
    smtp: { code: 451, enhanced: '4.4.2' },
  },

  // storage
  SG_CLIENT_GONE: {
    message: 'Connection closed before the message was received in full',
    temporary: true,
    smtp: { code: 451, enhanced: '4.4.2' },
  },
  SG_RATE_LIMITED: {
    message: 'Rate limit reached, try again later',
    temporary: true,
    smtp: { code: 451, enhanced: '4.7.1' },
  },
  SG_STORAGE_FULL: {
    message: 'Insufficient system storage',
    temporary: true,
    smtp: { code: 452, enhanced: '4.3.1' },
  },
  SG_STORAGE_FAILED: {
    message: 'Local error in processing',
    temporary: true,
    smtp: { code: 451, enhanced: '4.3.0' },
  },
  SG_SPOOL_CORRUPT: { message: 'spool file failed authentication', temporary: false },
  SG_KEY_UNKNOWN: { message: 'no master key with this key id', temporary: false },
  SG_KEY_INVALID: { message: 'master key file is invalid', temporary: false },

  // object store and portal store
  SG_OBJECT_KEY_INVALID: { message: 'object key is invalid', temporary: false },
  SG_OBJECT_NOT_FOUND: { message: 'no such stored object', temporary: false },
  SG_PORTAL_NOT_FOUND: { message: 'no such portal message', temporary: false },
  SG_PORTAL_SHREDDED: { message: 'portal message was shredded: its key is destroyed', temporary: false },
  SG_PORTAL_NOTIFICATION_INVALID: { message: 'portal notification input is invalid', temporary: false },
  SG_PORTAL_REPLY_REFUSED: { message: 'secure reply refused', temporary: false },
  SG_PORTAL_LINK_KEY: { message: 'portal message needs the key part of its link', temporary: false },

  // delivery
  SG_DNS_TEMPORARY: { message: 'DNS lookup failed temporarily', temporary: true },

  // queue administration
  SG_QUEUE_NOT_FOUND: { message: 'no such queued message', temporary: false },
  SG_QUEUE_BUSY: { message: 'message is being delivered', temporary: true },

  // audit
  SG_AUDIT_BROKEN: { message: 'audit chain is broken', temporary: false },

  // users
  SG_USER_EXISTS: { message: 'user already exists', temporary: false },
  SG_USER_NOT_FOUND: { message: 'user not found', temporary: false },

  // recipient key directory
  SG_KEY_FILE_INVALID: { message: 'no readable key or certificate in the file', temporary: false },
  SG_RECIPIENT_KEY_NOT_FOUND: { message: 'no such key in the key directory', temporary: false },

  // end-to-end copies: the transform failed (up front or part-way through the stream); the recipient is decided again without keys
  SG_E2E_FAILED: { message: 'end-to-end encryption of a copy failed', temporary: false },

  // organisation keys
  SG_ORG_KEY_NOT_FOUND: { message: 'no organisation key of this kind', temporary: false },
  SG_ORG_KEY_CORRUPT: { message: 'stored organisation key does not decrypt', temporary: false },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface SealgateErrorOptions {
  /** Replaces the default text; must not contain content or full addresses. */
  readonly message?: string;
  readonly cause?: unknown;
  /** Structured, PHI-free context for logs (paths, counts, key ids). */
  readonly detail?: Record<string, unknown>;
}

export class SealgateError extends Error {
  override readonly name = 'SealgateError';
  readonly code: ErrorCode;
  readonly temporary: boolean;
  readonly smtp: SmtpReply | undefined;
  readonly detail: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, options: SealgateErrorOptions = {}) {
    const spec: ErrorSpec = ERROR_CODES[code];
    super(options.message ?? spec.message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.temporary = spec.temporary;
    this.smtp = spec.smtp;
    this.detail = options.detail;
  }

  /** The full SMTP reply line text after the basic code: '5.7.1 Relay access denied'. */
  smtpText(): string {
    return this.smtp ? `${this.smtp.enhanced} ${this.message}` : this.message;
  }
}

export function isSealgateError(err: unknown, code?: ErrorCode): err is SealgateError {
  return err instanceof SealgateError && (code === undefined || err.code === code);
}

/**
 * The error smtp-server expects from a handler: `responseCode` sets the reply
 * code and the message already carries our enhanced code, so the library's
 * own enhanced-code table (which maps e.g. every 550 to 5.1.1) is not used.
 */
export interface SmtpHandlerError extends Error {
  responseCode: number;
}

export function toSmtpError(err: SealgateError): SmtpHandlerError {
  const reply = err.smtp ?? ERROR_CODES.SG_STORAGE_FAILED.smtp;
  const out = new Error(`${reply.enhanced} ${err.message}`) as SmtpHandlerError;
  out.responseCode = reply.code;
  return out;
}
