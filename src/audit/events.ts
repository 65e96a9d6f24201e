/**
 * The closed set of audit events and the data each one carries.
 *
 * RULE: audit data is PHI-free metadata about who did what, when and through
 * which path. It NEVER contains a message subject, a body or any part of it,
 * a header value, a password, a password hash, a key, a certificate private
 * key or any other credential, nor remote reply text. What it may contain:
 * ids (session, queue), listener and connector names, client IP addresses,
 * user names, SMTP AUTH method names, `SG_*` codes, sizes and counts, and, for
 * accepted messages only, the envelope sender and recipient addresses (the
 * record of who sent to whom, which a HIPAA audit trail needs; the database
 * is therefore as sensitive as the queue itself).
 *
 * The rule is enforced at run time, not only by the types: `validateAuditEvent`
 * (called on every append) refuses an unknown event type, an unknown field, a
 * missing required field and a value of the wrong kind, so a caller that
 * builds `data` loosely cannot slip a `subject` or `password` field in.
 *
 * Adding an event: add it to `AuditEventDataMap` and to `AUDIT_EVENT_FIELDS`
 * (the compiler checks the two agree), and to the table in docs/audit.md.
 * Never remove or rename an event or a field: old rows keep their meaning.
 */
import { ERROR_CODES, type ErrorCode } from '../errors.js';

/** Event type (`stage:event`) → the data it carries. */
export type AuditEventDataMap = {
  /** A client connected and passed the connection policy. */
  'ingress:connection_accepted': { sessionId: string; listener: string; remoteIp: string; connector?: string };
  /** A client was refused at connect time. */
  'ingress:connection_refused': { sessionId: string; listener: string; remoteIp: string; reason: ErrorCode };
  /** SMTP AUTH succeeded. `user` is the login name, never the password. */
  'ingress:auth_succeeded': { sessionId: string; listener: string; remoteIp: string; user: string; method: string };
  /** SMTP AUTH failed. `user` is the name that was tried, never the password. */
  'ingress:auth_failed': { sessionId: string; listener: string; remoteIp: string; user: string; method: string };
  /** A message was queued (committed in the same transaction as the queue rows). */
  'ingress:message_accepted': { queueId: string; sessionId: string; connector: string; sender: string; recipients: string[]; size: number };
  /** A recipient was refused by policy at RCPT (an address literal, too many for a null sender); never the address. */
  'ingress:recipient_refused': { sessionId: string; listener: string; remoteIp: string; connector?: string; reason: ErrorCode; reply: string };
  /** DATA was refused; `reply` is our own reply code and enhanced code, e.g. '552 5.3.4'. */
  'ingress:message_rejected': { sessionId: string; connector?: string; reason: ErrorCode; reply: string };
  /** MAIL FROM was refused (connector rules, TLS, client certificate, AUTH, sender domain, syntax, storage); `senderDomain` only, never the local part. */
  'ingress:sender_refused': { sessionId: string; listener: string; remoteIp: string; connector?: string; reason: ErrorCode; reply: string; senderDomain?: string };
  /** Refusals of one client IP, listener, stage (connect, mail, rcpt, data) and reason after the first audited one within a minute (`since`), as a count: a client hammering refusals cannot flood the chain. */
  'ingress:refusals_repeated': { remoteIp: string; listener: string; stage: string; reason: ErrorCode; reply: string; count: number; since: number };
  /**
   * A rate-limit or burst decision (docs/rate-limits.md): `action` defer (451 4.7.1 at `stage` mail or rcpt; bounded
   * as refusals are) or hold (the message `queueId` was accepted with its recipients held, in the same transaction).
   * `limit` is the config path below connectors[].limits (e.g. perSender.messagesPerMinute, burst.newRecipients),
   * `max` its value, `count` what the window held before. The sender as `senderDomain` and `senderHash` (a keyed
   * hash of the whole address: equal for one sender, not reversible), never the local part.
   */
  'ingress:rate_limited': { sessionId: string; listener: string; remoteIp: string; connector: string; stage: string; action: string; limit: string; max: number; count: number; senderDomain?: string; senderHash?: string; queueId?: string };
  /** The config was reloaded (SIGHUP): `source` is 'file' or 'embedded' (LoadedConfig.source, not the path), the SHA-256 of its file (sha256sum), what asked for it. */
  'config:reloaded': { source: string; sha256?: string; trigger?: string; restartNeeded?: string[] };
  /** SIGHUP configuration was invalid and not applied; `problems` is a count. */
  'config:reload_refused': { problems: number };
  /** The daemon started: its version, and the config in force (source, SHA-256 of the file as sha256sum prints it). */
  'daemon:started': { version: string; configSource?: string; configSha256?: string };
  /** `reason` is the signal name or other stop cause. */
  'daemon:stopped': { reason: string };
  'users:added': { user: string };
  'users:removed': { user: string };
  'users:password_changed': { user: string };
  /** Operator queue actions (`sealgate queue …`); `operator` is the OS user, `recipients` how many changed. */
  'queue:held': { queueId: string; operator: string; recipients: number; via?: string };
  'queue:released': { queueId: string; operator: string; recipients: number; via?: string };
  'queue:retried': { queueId: string; operator: string; recipients: number; via?: string };
  'queue:deleted': { queueId: string; operator: string; recipients: number; via?: string };
  'queue:bounced': { queueId: string; operator: string; recipients: number; via?: string };
  /**
   * One delivery attempt for one recipient: the MX host and address tried
   * last, TLS version and cipher (absent: cleartext or no connection), the
   * remote reply code and enhanced code (never its text), and the state the
   * recipient moved to.
   */
  'delivery:attempt': { queueId: string; recipient: string; mx?: string; ip?: string; tlsVersion?: string; cipher?: string; certSha256?: string; certVerified?: string; certError?: string; dane?: string; mtaSts?: string; tlsPolicy?: string; requirement?: string; reply?: string; outcome: string; method?: string; keyFingerprint?: string; keySource?: string };
  /** A delivery status notification about `queueId` was queued as `dsnQueueId` (action: failed | delayed | delivered). */
  'delivery:dsn_queued': { queueId: string; dsnQueueId: string; action: string; recipients: number };
  /** Protected mail was held back: the domain's MX no longer met the posture it showed before (`remembered`). */
  'delivery:posture_downgrade': { queueId: string; domain: string; remembered: string; mx: string };
  /** An operator accepted a domain's changed transport security (sealgate probe accept). */
  'probe:posture_accepted': { domain: string; operator: string };
  /** A daily TLS-RPT report for `domain` and `day` was queued as `queueId`. */
  'tlsrpt:report_queued': { domain: string; day: string; queueId: string; recipients: number };
  'tlsrpt:report_posted': { domain: string; day: string; host: string; status: string };
  /** An operational alert was raised (docs/alerts.md): its cause, and where it went (mail: the alert mail's queue id). */
  'alert:raised': { kind: string; key: string; severity: string; channels: string[]; queueId?: string; suppressed: number };
  /** An alert's webhook POST succeeded, or was given up after its last attempt. */
  'alert:webhook': { kind: string; key: string; status: string; attempts: number; delivered: string };
  /** A backup was written (sealgate backup): its size, and whether it holds the master key. */
  'backup:created': { operator: string; files: number; bytes: number; messages: number; finishedDuringBackup: number; includesKey: string; manifestSha256: string };
  /** A backup was restored into an empty data directory (recorded in the restored database). */
  'backup:restored': { operator: string; files: number; backupCreatedAt: string; keyRestored: string };
  /** Inspection and the decision ran: PHI yes/no, categories found (names, never values), required protection, methods chosen. */
  'inspect:verdict': { queueId: string; phi: string; categories: string[]; notFullyScanned: string; protection: string; methods: string[]; rules?: string[] };
  'policy:notice_queued': { queueId: string; noticeQueueId: string; kind: string; recipients: number };
  'delivery:portal_fallback': { queueId: string; recipient: string; requirement: string };
  /**
   * A next hop of `domain` (an MX host, the implicit MX, an address literal or
   * the smarthost) resolved to one of our own listening addresses. `hosts` are
   * the host names skipped; `outcome`: skipped (others were used), bounced
   * (every host loops: 5.4.6) or deferred (the smarthost loops).
   */
  'delivery:loop_detected': { queueId: string; domain: string; hosts: string[]; outcome: string };
  /** At start, recipients left in flight by a stopped or crashed daemon were returned to the queue. */
  'delivery:recovered': { recipients: number };
  /**
   * In-flight recipients of `queueId` whose lease ran out (the node that
   * claimed them died or stalled: docs/scale-out.md) were returned to the
   * queue by node `node`; `recipients` is how many.
   */
  'delivery:lease_taken_over': { queueId: string; recipients: number; node: string };
  /**
   * An archive row was written (a new entry, a recipient's decision, attempt
   * evidence or final state): `part` message | recipient, `seq` the
   * recipient's number, `sha256` the row's canonical hash (src/archive/records.ts).
   */
  'archive:record': { queueId: string; part: string; seq?: number; sha256: string };
  /** A journal report of the archived message was queued for archive.journalTo as `journalQueueId`. */
  'archive:journaled': { queueId: string; journalQueueId: string };
  /** Someone viewed the audit log (the console's audit page): the stage filter, if any, the names of the other filters used, and how many events were shown. */
  'audit:viewed': { operator: string; via: string; stage?: string; filters?: string[]; events: number };
  /** Someone viewed the console's reports page: the window's first and last day (YYYY-MM-DD, UTC); figures only, no PHI. */
  'console:report_viewed': { operator: string; via: string; since: string; until: string };
  /** Someone searched the archive: through which path (cli | console), the filter names used (never their values) and how many entries matched. */
  'archive:searched': { operator: string; via: string; filters: string[]; results: number };
  /** Someone read an entry's metadata and evidence. */
  'archive:read': { queueId: string; operator: string; via: string };
  /** Someone opened an entry's content (the original message), with the reason they gave. */
  'archive:content_opened': { queueId: string; operator: string; via: string; reason: string };
  /** Someone was refused an entry's content (their role may not open content). */
  'archive:content_refused': { queueId: string; operator: string; via: string };
  /** A signed checkpoint of the chain head was stored (docs/archive.md): its number, why, the audit seq it covers and its hash. */
  'archive:checkpoint': { checkpoint: number; reason: string; auditSeq: number; sha256: string };
  /** A console user was created (sealgate console-users add). */
  'console:user_added': { user: string; role: string; operator: string; via?: string };
  'console:user_disabled': { user: string; operator: string; via?: string };
  /** A console user's code secret was replaced (the old one stops working). */
  'console:mfa_reset': { user: string; operator: string; via?: string };
  'console:signed_in': { user: string; role: string; remoteIp: string };
  /** A console sign-in failed: `reason` unknown-user | password | code | disabled | locked (the form says the same for all but locked). */
  'console:sign_in_failed': { user: string; remoteIp: string; reason: string };
  /** Too many failures: the name is locked until `until` (ms since epoch). */
  'console:locked': { user: string; remoteIp: string; until: number };
  /** A console session ended: `reason` sign-out (the user's button) | idle (15 minutes without a request) | max-age (8 hours); `remoteIp` the request's, or the sign-in's for a timeout. */
  'console:signed_out': { user: string; remoteIp: string; reason: string };
  /** A signed-in console user whose role is not admin asked for an admin page or action (403): `page` config | queue | users. */
  'console:admin_refused': { operator: string; via: string; page: string };
  /**
   * A legal hold was placed (retention: docs/archive.md): the entries whose hold this changed (`count` of
   * them; none when all were held already), who, through which path, the reason as the operator gave it
   * (one line, at most 500 characters) and, for a hold per search, the filter names (never their values).
   */
  'archive:held': { queueIds: string[]; count: number; operator: string; via: string; reason?: string; filters?: string[] };
  /** A legal hold was released: as archive:held. */
  'archive:released': { queueIds: string[]; count: number; operator: string; via: string; reason?: string; filters?: string[] };
  /** Entries past retention were purged: their keys destroyed (crypto-shredding); `objects` ciphertext objects deleted with them. */
  'archive:purged': { queueIds: string[]; count: number; objects: number; operator: string; via: string };
  /** Someone exported archive entries (docs/archive.md): the filter names used (never their values), how many entries, whether with content (yes | no), the SHA-256 of the signed manifest. */
  'archive:exported': { operator: string; via: string; filters: string[]; entries: number; content: string; sha256: string };
  /** Archive objects no entry needs (a crash between storing and committing) were deleted (src/archive/orphans.ts): how many, their bytes, by what (daemon | cli) and, from the CLI, who. */
  'archive:orphans_removed': { objects: number; bytes: number; via: string; operator?: string };
  /**
   * `sealgate policy replay` re-decided archived messages under a policy
   * (`policy`: current | file, with the file's `configSha256`) over the
   * window `since`..`until` (ISO times): `entries` whose content it opened
   * (inside the process only), `skipped` (purged, not inspected, key not
   * loaded, unreadable) and `changed` (a method, rule or protection would
   * differ). Written after the run, also when it fails part way.
   */
  'policy:replayed': { operator: string; via: string; since: string; until?: string; policy: string; configSha256?: string; entries: number; skipped: number; changed: number; complete: string };
  /** A recipient's portal copy was stored (its queue state is now final: delivered to the portal); `depositId` names the copy. */
  'portal:deposited': { queueId: string; depositId: string; recipient: string };
  /** The notification mail for a portal recipient was queued as `noticeQueueId`. */
  'portal:notification_queued': { queueId: string; depositId: string; recipient: string; noticeQueueId: string };
  /** A sign-in code was mailed (queued as `noticeQueueId`); never the code. */
  'portal:code_sent': { depositId: string; recipient: string; remoteIp: string; noticeQueueId: string };
  /** A code request was refused: `reason` locked | rate. */
  'portal:code_refused': { depositId: string; recipient: string; remoteIp: string; reason: string };
  /** A wrong, expired or used code was entered; `outcome` is the check's outcome, `triesLeft` on the current code. */
  'portal:code_failed': { depositId: string; recipient: string; remoteIp: string; outcome: string; triesLeft: number };
  /** Too many wrong codes: no new code for this recipient of this message until `until` (ms since the epoch). */
  'portal:locked': { depositId: string; recipient: string; remoteIp: string; until: number };
  /** A recipient signed in; `method` code | passkey. */
  'portal:signed_in': { depositId: string; recipient: string; remoteIp: string; method: string };
  'portal:signed_out': { depositId: string; recipient: string; remoteIp: string };
  /** A passkey was registered for `recipient` (its credential id's SHA-256, never the key). */
  'portal:passkey_registered': { recipient: string; remoteIp: string; credential: string };
  /**
   * A passkey sign-in on a link failed; `reason` challenge (none, used or
   * expired) | malformed | unknown (no such passkey) | other-recipient (a
   * passkey of another address) | verification (signature, origin, user
   * verification or counter). Never the credential.
   */
  'portal:passkey_failed': { depositId: string; recipient: string; remoteIp: string; reason: string };
  /** An operator removed an address's passkeys (`sealgate portal passkeys … --remove`). */
  'portal:passkeys_removed': { recipient: string; operator: string; count: number };
  /** The message was shown to a signed-in recipient. */
  'portal:viewed': { depositId: string; recipient: string; remoteIp: string };
  /** An attachment was downloaded: its index in the message and its size (never its name). */
  'portal:downloaded': { depositId: string; recipient: string; remoteIp: string; attachment: number; size: number };
  /** A secure reply was accepted into the queue as `replyQueueId`. */
  'portal:replied': { depositId: string; recipient: string; remoteIp: string; replyQueueId: string; size: number; recipients: number };
  /** An operator or the sender revoked the message; `operator` is the OS user or the sender address. */
  'portal:revoked': { depositId: string; queueId: string; operator: string };
  /**
   * Disposal record: the copy's key was destroyed and its ciphertext removed
   * (crypto-shredding). `reason`: expired | revoked | purged.
   */
  'portal:shredded': { depositId: string; queueId: string; reason: string };
  /**
   * A recipient key was stored in the key directory for `address` (public
   * material only, never in the event); `verdict` is its validity code
   * (valid, expired, revoked …); `operator` is the OS user of an import.
   */
  'keys:stored': { fingerprint: string; kind: string; address: string; source: string; verdict: string; replaced?: string[]; operator?: string };
  /** An operator removed a key (`sealgate keys remove`); `count` rows, one per address. */
  'keys:removed': { fingerprint: string; operator: string; count: number };
  /**
   * An organisation OpenPGP key was generated (`sealgate keys org init`);
   * `replaced` is the fingerprint of the key it replaced (--force). Never key material.
   */
  'keys:org_created': { fingerprint: string; kind: string; operator: string; replaced?: string };
  /** An organisation S/MIME certificate and its key were imported (`sealgate keys org import`); fingerprints only. */
  'keys:org_imported': { fingerprint: string; kind: string; operator: string; replaced?: string };
  /**
   * A recipient's end-to-end copy was built and spooled (`method` pgp or
   * smime, the key it is encrypted to and where that key came from, whether
   * the organisation signed it), or — `passthrough` set to how — the mail
   * arrived already encrypted and goes as it is.
   */
  'inspect:encrypted_copy': { queueId: string; recipient: string; method: string; keyFingerprint?: string; keySource?: string; signed?: string; detail?: string; passthrough?: string };
  /** A recipient's end-to-end copy could not be built (`why`: an error code or a size limit, never content); the recipient was decided again without keys. */
  'inspect:encrypted_copy_failed': { queueId: string; recipient: string; method: string; keyFingerprint: string; why: string };
};

export type AuditEventType = keyof AuditEventDataMap;

export type AuditEventData<T extends AuditEventType> = AuditEventDataMap[T];

/**
 * One event to append. Called with a literal type (`{ type: 'users:added',
 * data: { user } }`) the compiler checks `data` against that type's shape.
 */
export interface AuditEvent<T extends AuditEventType = AuditEventType> {
  readonly type: T;
  readonly data: AuditEventData<T>;
}

/** Run-time kind of a field; a trailing '?' marks it optional. */
type FieldKind = 'string' | 'integer' | 'string[]' | 'errorCode';
type FieldSpec = FieldKind | `${FieldKind}?`;

type KindOf<V> = [V] extends [ErrorCode]
  ? 'errorCode'
  : [V] extends [string]
    ? 'string'
    : [V] extends [number]
      ? 'integer'
      : [V] extends [readonly string[]]
        ? 'string[]'
        : never;
type SpecOf<M> = { readonly [F in keyof M]-?: undefined extends M[F] ? `${KindOf<Exclude<M[F], undefined>>}?` : KindOf<M[F]> };

/**
 * The run-time schema: every allowed field of every event type and its kind.
 * `satisfies` makes the compiler reject any disagreement with the map above.
 */
export const AUDIT_EVENT_FIELDS = {
  'ingress:connection_accepted': { sessionId: 'string', listener: 'string', remoteIp: 'string', connector: 'string?' },
  'ingress:connection_refused': { sessionId: 'string', listener: 'string', remoteIp: 'string', reason: 'errorCode' },
  'ingress:auth_succeeded': { sessionId: 'string', listener: 'string', remoteIp: 'string', user: 'string', method: 'string' },
  'ingress:auth_failed': { sessionId: 'string', listener: 'string', remoteIp: 'string', user: 'string', method: 'string' },
  'ingress:message_accepted': { queueId: 'string', sessionId: 'string', connector: 'string', sender: 'string', recipients: 'string[]', size: 'integer' },
  'ingress:recipient_refused': { sessionId: 'string', listener: 'string', remoteIp: 'string', connector: 'string?', reason: 'errorCode', reply: 'string' },
  'ingress:message_rejected': { sessionId: 'string', connector: 'string?', reason: 'errorCode', reply: 'string' },
  'ingress:sender_refused': { sessionId: 'string', listener: 'string', remoteIp: 'string', connector: 'string?', reason: 'errorCode', reply: 'string', senderDomain: 'string?' },
  'ingress:rate_limited': { sessionId: 'string', listener: 'string', remoteIp: 'string', connector: 'string', stage: 'string', action: 'string', limit: 'string', max: 'integer', count: 'integer', senderDomain: 'string?', senderHash: 'string?', queueId: 'string?' },
  'ingress:refusals_repeated': { remoteIp: 'string', listener: 'string', stage: 'string', reason: 'errorCode', reply: 'string', count: 'integer', since: 'integer' },
  'config:reloaded': { source: 'string', sha256: 'string?', trigger: 'string?', restartNeeded: 'string[]?' },
  'config:reload_refused': { problems: 'integer' },
  'daemon:started': { version: 'string', configSource: 'string?', configSha256: 'string?' },
  'daemon:stopped': { reason: 'string' },
  'users:added': { user: 'string' },
  'users:removed': { user: 'string' },
  'users:password_changed': { user: 'string' },
  'queue:held': { queueId: 'string', operator: 'string', recipients: 'integer', via: 'string?' },
  'queue:released': { queueId: 'string', operator: 'string', recipients: 'integer', via: 'string?' },
  'queue:retried': { queueId: 'string', operator: 'string', recipients: 'integer', via: 'string?' },
  'queue:deleted': { queueId: 'string', operator: 'string', recipients: 'integer', via: 'string?' },
  'queue:bounced': { queueId: 'string', operator: 'string', recipients: 'integer', via: 'string?' },
  'delivery:attempt': { queueId: 'string', recipient: 'string', mx: 'string?', ip: 'string?', tlsVersion: 'string?', cipher: 'string?', certSha256: 'string?', certVerified: 'string?', certError: 'string?', dane: 'string?', mtaSts: 'string?', tlsPolicy: 'string?', requirement: 'string?', reply: 'string?', outcome: 'string', method: 'string?', keyFingerprint: 'string?', keySource: 'string?' },
  'delivery:dsn_queued': { queueId: 'string', dsnQueueId: 'string', action: 'string', recipients: 'integer' },
  'delivery:posture_downgrade': { queueId: 'string', domain: 'string', remembered: 'string', mx: 'string' },
  'probe:posture_accepted': { domain: 'string', operator: 'string' },
  'tlsrpt:report_queued': { domain: 'string', day: 'string', queueId: 'string', recipients: 'integer' },
  'tlsrpt:report_posted': { domain: 'string', day: 'string', host: 'string', status: 'string' },
  'alert:raised': { kind: 'string', key: 'string', severity: 'string', channels: 'string[]', queueId: 'string?', suppressed: 'integer' },
  'alert:webhook': { kind: 'string', key: 'string', status: 'string', attempts: 'integer', delivered: 'string' },
  'backup:created': { operator: 'string', files: 'integer', bytes: 'integer', messages: 'integer', finishedDuringBackup: 'integer', includesKey: 'string', manifestSha256: 'string' },
  'backup:restored': { operator: 'string', files: 'integer', backupCreatedAt: 'string', keyRestored: 'string' },
  'inspect:verdict': { queueId: 'string', phi: 'string', categories: 'string[]', notFullyScanned: 'string', protection: 'string', methods: 'string[]', rules: 'string[]?' },
  'policy:notice_queued': { queueId: 'string', noticeQueueId: 'string', kind: 'string', recipients: 'integer' },
  'delivery:portal_fallback': { queueId: 'string', recipient: 'string', requirement: 'string' },
  'delivery:loop_detected': { queueId: 'string', domain: 'string', hosts: 'string[]', outcome: 'string' },
  'delivery:recovered': { recipients: 'integer' },
  'delivery:lease_taken_over': { queueId: 'string', recipients: 'integer', node: 'string' },
  'archive:record': { queueId: 'string', part: 'string', seq: 'integer?', sha256: 'string' },
  'archive:journaled': { queueId: 'string', journalQueueId: 'string' },
  'audit:viewed': { operator: 'string', via: 'string', stage: 'string?', filters: 'string[]?', events: 'integer' },
  'console:report_viewed': { operator: 'string', via: 'string', since: 'string', until: 'string' },
  'archive:searched': { operator: 'string', via: 'string', filters: 'string[]', results: 'integer' },
  'archive:read': { queueId: 'string', operator: 'string', via: 'string' },
  'archive:content_opened': { queueId: 'string', operator: 'string', via: 'string', reason: 'string' },
  'archive:content_refused': { queueId: 'string', operator: 'string', via: 'string' },
  'archive:checkpoint': { checkpoint: 'integer', reason: 'string', auditSeq: 'integer', sha256: 'string' },
  'console:user_added': { user: 'string', role: 'string', operator: 'string', via: 'string?' },
  'console:user_disabled': { user: 'string', operator: 'string', via: 'string?' },
  'console:mfa_reset': { user: 'string', operator: 'string', via: 'string?' },
  'console:signed_in': { user: 'string', role: 'string', remoteIp: 'string' },
  'console:sign_in_failed': { user: 'string', remoteIp: 'string', reason: 'string' },
  'console:locked': { user: 'string', remoteIp: 'string', until: 'integer' },
  'console:signed_out': { user: 'string', remoteIp: 'string', reason: 'string' },
  'console:admin_refused': { operator: 'string', via: 'string', page: 'string' },
  'archive:held': { queueIds: 'string[]', count: 'integer', operator: 'string', via: 'string', reason: 'string?', filters: 'string[]?' },
  'archive:released': { queueIds: 'string[]', count: 'integer', operator: 'string', via: 'string', reason: 'string?', filters: 'string[]?' },
  'archive:purged': { queueIds: 'string[]', count: 'integer', objects: 'integer', operator: 'string', via: 'string' },
  'archive:exported': { operator: 'string', via: 'string', filters: 'string[]', entries: 'integer', content: 'string', sha256: 'string' },
  'archive:orphans_removed': { objects: 'integer', bytes: 'integer', via: 'string', operator: 'string?' },
  'policy:replayed': { operator: 'string', via: 'string', since: 'string', until: 'string?', policy: 'string', configSha256: 'string?', entries: 'integer', skipped: 'integer', changed: 'integer', complete: 'string' },
  'portal:deposited': { queueId: 'string', depositId: 'string', recipient: 'string' },
  'portal:notification_queued': { queueId: 'string', depositId: 'string', recipient: 'string', noticeQueueId: 'string' },
  'portal:code_sent': { depositId: 'string', recipient: 'string', remoteIp: 'string', noticeQueueId: 'string' },
  'portal:code_refused': { depositId: 'string', recipient: 'string', remoteIp: 'string', reason: 'string' },
  'portal:code_failed': { depositId: 'string', recipient: 'string', remoteIp: 'string', outcome: 'string', triesLeft: 'integer' },
  'portal:locked': { depositId: 'string', recipient: 'string', remoteIp: 'string', until: 'integer' },
  'portal:signed_in': { depositId: 'string', recipient: 'string', remoteIp: 'string', method: 'string' },
  'portal:signed_out': { depositId: 'string', recipient: 'string', remoteIp: 'string' },
  'portal:passkey_registered': { recipient: 'string', remoteIp: 'string', credential: 'string' },
  'portal:passkey_failed': { depositId: 'string', recipient: 'string', remoteIp: 'string', reason: 'string' },
  'portal:passkeys_removed': { recipient: 'string', operator: 'string', count: 'integer' },
  'portal:viewed': { depositId: 'string', recipient: 'string', remoteIp: 'string' },
  'portal:downloaded': { depositId: 'string', recipient: 'string', remoteIp: 'string', attachment: 'integer', size: 'integer' },
  'portal:replied': { depositId: 'string', recipient: 'string', remoteIp: 'string', replyQueueId: 'string', size: 'integer', recipients: 'integer' },
  'portal:revoked': { depositId: 'string', queueId: 'string', operator: 'string' },
  'portal:shredded': { depositId: 'string', queueId: 'string', reason: 'string' },
  'keys:stored': { fingerprint: 'string', kind: 'string', address: 'string', source: 'string', verdict: 'string', replaced: 'string[]?', operator: 'string?' },
  'keys:removed': { fingerprint: 'string', operator: 'string', count: 'integer' },
  'keys:org_created': { fingerprint: 'string', kind: 'string', operator: 'string', replaced: 'string?' },
  'keys:org_imported': { fingerprint: 'string', kind: 'string', operator: 'string', replaced: 'string?' },
  'inspect:encrypted_copy': { queueId: 'string', recipient: 'string', method: 'string', keyFingerprint: 'string?', keySource: 'string?', signed: 'string?', detail: 'string?', passthrough: 'string?' },
  'inspect:encrypted_copy_failed': { queueId: 'string', recipient: 'string', method: 'string', keyFingerprint: 'string', why: 'string' },
} as const satisfies { readonly [T in AuditEventType]: SpecOf<AuditEventDataMap[T]> };

/** Every event type, at run time. */
export const AUDIT_EVENT_TYPES: readonly AuditEventType[] = Object.freeze(Object.keys(AUDIT_EVENT_FIELDS) as AuditEventType[]);

export function isAuditEventType(value: unknown): value is AuditEventType {
  return typeof value === 'string' && Object.hasOwn(AUDIT_EVENT_FIELDS, value);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

function hasKind(value: unknown, kind: FieldKind): boolean {
  switch (kind) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isSafeInteger(value);
    case 'string[]':
      return Array.isArray(value) && value.every((v) => typeof v === 'string');
    case 'errorCode':
      return typeof value === 'string' && Object.hasOwn(ERROR_CODES, value);
  }
}

/**
 * Checks an event against the schema and returns a clean copy of its data:
 * only the declared fields, optional fields that are `undefined` dropped,
 * arrays copied. Throws a TypeError naming the type and field (never a value:
 * values may be addresses) on an unknown type, an unknown or missing field,
 * or a value of the wrong kind.
 */
export function validateAuditEvent(event: unknown): { type: AuditEventType; data: Record<string, unknown> } {
  const type = isPlainObject(event) ? event.type : undefined;
  if (!isAuditEventType(type)) {
    const shown = typeof type === 'string' ? JSON.stringify(type.slice(0, 64)) : typeof type;
    throw new TypeError(`unknown audit event type ${shown}`);
  }
  const data = (event as { data?: unknown }).data;
  if (!isPlainObject(data)) throw new TypeError(`audit event ${type}: data must be a plain object`);
  const spec: Readonly<Record<string, FieldSpec>> = AUDIT_EVENT_FIELDS[type];
  for (const key of Object.keys(data)) {
    if (!Object.hasOwn(spec, key)) throw new TypeError(`audit event ${type}: field ${JSON.stringify(key.slice(0, 64))} is not allowed`);
  }
  const out: Record<string, unknown> = {};
  for (const [field, fieldSpec] of Object.entries(spec)) {
    const optional = fieldSpec.endsWith('?');
    const kind = (optional ? fieldSpec.slice(0, -1) : fieldSpec) as FieldKind;
    const value = Object.hasOwn(data, field) ? data[field] : undefined;
    if (value === undefined) {
      if (optional) continue;
      throw new TypeError(`audit event ${type}: field ${field} is required`);
    }
    if (!hasKind(value, kind)) throw new TypeError(`audit event ${type}: field ${field} must be ${kind === 'errorCode' ? 'an SG_* error code' : `of kind ${kind}`}`);
    out[field] = Array.isArray(value) ? [...(value as string[])] : value;
  }
  return { type, data: out };
}
