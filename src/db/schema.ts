/**
 * The database schema, applied as numbered migrations tracked in
 * PRAGMA user_version. Tables hold envelopes and state, never message
 * content: bodies live only in the encrypted spool.
 */
import type { Database } from './database.js';

const MIGRATIONS: readonly string[] = [
  // 1: queue, recipients, audit log, local users
  `
  CREATE TABLE messages (
    id            TEXT PRIMARY KEY,
    created_at    INTEGER NOT NULL,          -- ms since epoch
    sender        TEXT NOT NULL,             -- envelope sender, '' for the null sender
    size          INTEGER NOT NULL,          -- bytes as spooled (with added trace headers)
    spool_key_id  TEXT NOT NULL,             -- master key that wrapped the data key
    listener      TEXT NOT NULL,
    connector     TEXT NOT NULL,
    client_ip     TEXT NOT NULL,
    helo          TEXT NOT NULL,
    tls_version   TEXT,                      -- NULL when the session was cleartext
    auth_user     TEXT,
    body_type     TEXT NOT NULL,             -- 7BIT | 8BITMIME | BINARYMIME
    smtputf8      INTEGER NOT NULL DEFAULT 0,
    requiretls    INTEGER NOT NULL DEFAULT 0, -- RFC 8689 REQUIRETLS was requested
    dsn_ret       TEXT,                      -- FULL | HDRS | NULL
    dsn_envid     TEXT,
    bare_line_endings INTEGER NOT NULL DEFAULT 0 -- how many bare CR/LF were normalized
  );
  CREATE TABLE recipients (
    message_id    TEXT NOT NULL REFERENCES messages(id) ON DELETE CASCADE,
    seq           INTEGER NOT NULL,
    address       TEXT NOT NULL,
    domain        TEXT NOT NULL,
    state         TEXT NOT NULL DEFAULT 'queued',
    next_attempt  INTEGER NOT NULL,          -- ms since epoch
    attempts      INTEGER NOT NULL DEFAULT 0,
    dsn_notify    TEXT,                      -- comma list: NEVER | SUCCESS,FAILURE,DELAY
    dsn_orcpt     TEXT,
    last_error    TEXT,
    PRIMARY KEY (message_id, seq)
  );
  CREATE INDEX recipients_due ON recipients(state, next_attempt);
  CREATE INDEX recipients_domain ON recipients(domain);
  CREATE TABLE audit_log (
    seq        INTEGER PRIMARY KEY,          -- 1, 2, 3 … without gaps
    ts         INTEGER NOT NULL,             -- ms since epoch
    type       TEXT NOT NULL,                -- stage:event, e.g. ingress:message_accepted
    data       TEXT NOT NULL,                -- canonical JSON, never content
    prev_hash  TEXT NOT NULL,                -- hex sha256 of the previous event, 64 zeros for the first
    hash       TEXT NOT NULL                 -- hex sha256(prev_hash || canonical event)
  );
  CREATE TABLE users (
    name        TEXT PRIMARY KEY,
    hash        TEXT NOT NULL,               -- argon2id PHC string
    created_at  INTEGER NOT NULL,
    disabled    INTEGER NOT NULL DEFAULT 0
  );
  `,
  // 2: delivery bookkeeping per recipient (issue: delivery engine)
  `
  ALTER TABLE recipients ADD COLUMN last_attempt_at INTEGER;   -- ms since epoch
  ALTER TABLE recipients ADD COLUMN last_code INTEGER;         -- remote reply code, NULL for network errors
  ALTER TABLE recipients ADD COLUMN last_enhanced TEXT;        -- remote enhanced status code
  ALTER TABLE recipients ADD COLUMN last_mx TEXT;              -- MX host name of the last attempt
  ALTER TABLE recipients ADD COLUMN finished_at INTEGER;       -- delivered / bounced / expired at
  ALTER TABLE recipients ADD COLUMN requirement TEXT NOT NULL DEFAULT 'may'; -- none | may | encrypt | verify | dane
  ALTER TABLE recipients ADD COLUMN delay_warned INTEGER NOT NULL DEFAULT 0; -- a delay DSN was sent
  ALTER TABLE recipients ADD COLUMN dsn_sent INTEGER NOT NULL DEFAULT 0;     -- the final DSN (if any) was queued
  `,
  // 3: transport security (issue: probe, MTA-STS, DANE, posture memory, TLS-RPT)
  `
  CREATE TABLE mta_sts_policies (
    domain      TEXT PRIMARY KEY,             -- policy domain, lower case
    policy_id   TEXT NOT NULL,                -- id= from the _mta-sts TXT record
    mode        TEXT NOT NULL,                -- enforce | testing | none
    mx          TEXT NOT NULL,                -- JSON array of mx patterns
    max_age     INTEGER NOT NULL,             -- seconds
    fetched_at  INTEGER NOT NULL,             -- ms since epoch
    expires_at  INTEGER NOT NULL,             -- fetched_at + max_age
    checked_at  INTEGER NOT NULL              -- last TXT check (id unchanged)
  );
  CREATE TABLE probe_results (
    domain      TEXT NOT NULL,
    mx          TEXT NOT NULL,
    ip          TEXT NOT NULL,
    probed_at   INTEGER NOT NULL,
    expires_at  INTEGER NOT NULL,             -- positive results live longer than negative ones
    result      TEXT NOT NULL,                -- JSON: starttls, tlsVersion, cipher, certificate checks, error
    PRIMARY KEY (domain, mx, ip)
  );
  CREATE TABLE tls_posture (
    domain      TEXT PRIMARY KEY,
    best        TEXT NOT NULL,                -- JSON: best posture seen (starttls, certValid, tlsVersion)
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL,
    accepted_at INTEGER                       -- sealgate probe accept: a deliberate downgrade
  );
  CREATE TABLE tlsrpt_counts (
    day           TEXT NOT NULL,              -- UTC date YYYY-MM-DD
    domain        TEXT NOT NULL,              -- recipient (policy) domain
    policy_type   TEXT NOT NULL,              -- sts | tlsa | no-policy-found
    mx            TEXT NOT NULL,
    result_type   TEXT NOT NULL,              -- success, or an RFC 8460 failure result type
    count         INTEGER NOT NULL,
    PRIMARY KEY (day, domain, policy_type, mx, result_type)
  );
  `,
  // 4: inspection and the per-recipient decision (DLP issue)
  `
  ALTER TABLE messages ADD COLUMN inspected INTEGER NOT NULL DEFAULT 1; -- 0 until inspection and the decision ran
  ALTER TABLE messages ADD COLUMN verdict TEXT;                         -- JSON summary: categories, counts, confidences, methods; never values
  ALTER TABLE recipients ADD COLUMN method TEXT;                        -- tls-verified | smime | pgp | portal | tls-opportunistic | block | quarantine
  ALTER TABLE recipients ADD COLUMN decision TEXT;                      -- JSON reasons
  CREATE INDEX messages_uninspected ON messages(inspected) WHERE inspected = 0;
  `,
  // 5: policy rules (DLP issue)
  `
  ALTER TABLE messages ADD COLUMN rewrite TEXT;                         -- JSON {stripSubjectTag, addHeaders}: header changes applied at delivery
  `,
  // 6: blind copies travel alone (DLP issue)
  `
  ALTER TABLE recipients ADD COLUMN bcc INTEGER NOT NULL DEFAULT 0;     -- 1: not in To/Cc: delivered in a transaction of its own
  `,
  // 7: secure message portal, storage (portal issue): one encrypted copy per message in the object store
  `
  CREATE TABLE portal_messages (
    deposit_id   TEXT PRIMARY KEY,           -- random, 128 bits, hex
    queue_id     TEXT NOT NULL,              -- the message it was deposited from (no foreign key: the queue row may go first)
    object_key   TEXT NOT NULL,              -- object-store key of the encrypted copy
    wrapped_key  BLOB,                       -- the copy's data key wrapped by the master key; NULL once shredded
    key_id       TEXT NOT NULL,              -- master key that wrapped it
    size         INTEGER NOT NULL,           -- bytes of the original MIME
    created_at   INTEGER NOT NULL,           -- ms since epoch
    expires_at   INTEGER NOT NULL,           -- ms since epoch
    revoked_at   INTEGER,
    shredded_at  INTEGER                     -- key destroyed and object deleted
  );
  CREATE INDEX portal_messages_queue ON portal_messages(queue_id);
  CREATE INDEX portal_messages_expires ON portal_messages(expires_at);
  CREATE UNIQUE INDEX portal_messages_object ON portal_messages(object_key);
  CREATE TABLE portal_recipients (
    deposit_id   TEXT NOT NULL REFERENCES portal_messages(deposit_id) ON DELETE CASCADE,
    seq          INTEGER NOT NULL,
    address      TEXT NOT NULL,
    bcc          INTEGER NOT NULL DEFAULT 0, -- 1: invisible to the other recipients
    token_hash   TEXT NOT NULL,              -- hex sha256 of the link token; the token itself is never stored
    notified_at  INTEGER,
    opened_at    INTEGER,
    PRIMARY KEY (deposit_id, seq)
  );
  CREATE UNIQUE INDEX portal_recipients_token ON portal_recipients(token_hash);
  `,
  // 8: portal sign-in codes and lockouts (portal issue): only HMACs of codes, never the codes
  `
  CREATE TABLE portal_codes (
    code_id      TEXT PRIMARY KEY,           -- random, 128 bits, hex
    deposit_id   TEXT NOT NULL REFERENCES portal_messages(deposit_id) ON DELETE CASCADE,
    recipient    TEXT NOT NULL,              -- address, lower case
    code_hash    TEXT NOT NULL,              -- hex HMAC-SHA-256 under a key derived from the master key
    salt         TEXT NOT NULL,              -- hex, 128 random bits per code
    digits       INTEGER NOT NULL,           -- 6..8
    expires_at   INTEGER NOT NULL,           -- ms since epoch; set to the issue time of a newer code that replaces it
    wrong_tries  INTEGER NOT NULL DEFAULT 0,
    used_at      INTEGER,                    -- signed in with it (single use)
    created_at   INTEGER NOT NULL            -- ms since epoch
  );
  CREATE INDEX portal_codes_recipient ON portal_codes(deposit_id, recipient, created_at);
  CREATE INDEX portal_codes_expires ON portal_codes(expires_at);
  CREATE TABLE portal_lockouts (
    deposit_id   TEXT NOT NULL REFERENCES portal_messages(deposit_id) ON DELETE CASCADE,
    recipient    TEXT NOT NULL,              -- address, lower case
    lock_count   INTEGER NOT NULL,           -- locks so far; the backoff doubles with each
    locked_until INTEGER NOT NULL,           -- ms since epoch: no new code before this
    PRIMARY KEY (deposit_id, recipient)
  );
  CREATE INDEX portal_lockouts_until ON portal_lockouts(locked_until);
  `,
  // 9: portal deposit from the queue, reading sessions, passkeys, replies (portal issue)
  `
  ALTER TABLE portal_messages ADD COLUMN sender TEXT NOT NULL DEFAULT '';  -- envelope sender of the original: where secure replies go
  ALTER TABLE portal_messages ADD COLUMN revoked_by TEXT;                   -- OS user or sender address that revoked it
  ALTER TABLE portal_recipients ADD COLUMN replied_at INTEGER;              -- last secure reply, ms since epoch
  CREATE TABLE portal_sessions (
    session_hash TEXT PRIMARY KEY,           -- hex sha256 of the cookie value; the value itself is never stored
    deposit_id   TEXT NOT NULL REFERENCES portal_messages(deposit_id) ON DELETE CASCADE,
    recipient    TEXT NOT NULL,              -- address, lower case
    method       TEXT NOT NULL,              -- code | passkey
    csrf_token   TEXT NOT NULL,              -- random, per session; every form carries it
    created_at   INTEGER NOT NULL,
    last_seen_at INTEGER NOT NULL,           -- idle timeout counts from here
    remote_ip    TEXT NOT NULL
  );
  CREATE INDEX portal_sessions_seen ON portal_sessions(last_seen_at);
  CREATE TABLE portal_passkeys (
    credential_id TEXT PRIMARY KEY,          -- base64url WebAuthn credential id
    recipient     TEXT NOT NULL,             -- address, lower case: a passkey opens every message to this address
    public_key    BLOB NOT NULL,             -- COSE public key
    counter       INTEGER NOT NULL DEFAULT 0,
    transports    TEXT,                      -- JSON array
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER
  );
  CREATE INDEX portal_passkeys_recipient ON portal_passkeys(recipient);
  `,
  // 10: secure replies from the portal (portal issue): a message's own next hop, and the reply's copy in the thread
  `
  ALTER TABLE messages ADD COLUMN route TEXT;                              -- host:port next hop for this message alone (portal.replyRoute); NULL: MX routing
  ALTER TABLE portal_messages ADD COLUMN reply_of TEXT;                    -- a secure reply's copy: the deposit it answers (shown in that thread)
  CREATE INDEX portal_messages_reply_of ON portal_messages(reply_of);
  `,
  // 11: zero-knowledge links (portal.linkKey): the data key sealed per recipient under a key only their link completes
  `
  ALTER TABLE portal_messages ADD COLUMN link_key INTEGER NOT NULL DEFAULT 0;  -- 1: wrapped_key holds the server part; the data key is only in link_wrapped_key
  ALTER TABLE portal_recipients ADD COLUMN link_wrapped_key BLOB;            -- data key sealed under HKDF(server part, link fragment); NULL once shredded
  `,
  // 12: the sender's withdraw link (portal.senderRevokeLinks): only its hash
  `
  ALTER TABLE portal_messages ADD COLUMN withdraw_token_hash TEXT;          -- hex sha256 of the sender's withdraw link token; NULL: none was sent
  CREATE UNIQUE INDEX portal_messages_withdraw ON portal_messages(withdraw_token_hash);
  `,
  // 13: recipient key directory (E2E issue): OpenPGP public keys and S/MIME certificates per address, with their verdict
  `
  CREATE TABLE recipient_keys (
    fingerprint TEXT NOT NULL,                -- lower-case hex: OpenPGP fingerprint, or SHA-256 of the certificate DER
    address     TEXT NOT NULL,                -- local part as written, domain lower case
    kind        TEXT NOT NULL,                -- pgp | smime
    source      TEXT NOT NULL,                -- admin | wkd | keyserver | dns
    algorithm   TEXT NOT NULL,                -- e.g. rsaEncryptSign3072 + rsaEncryptSign3072, EC P-256
    created_at  INTEGER NOT NULL,             -- ms since epoch: key creation / certificate notBefore
    expires_at  INTEGER,                      -- ms since epoch; NULL: never
    revoked     INTEGER,                      -- 1 | 0; NULL: not checked (S/MIME without CRL/OCSP)
    valid       INTEGER NOT NULL,             -- 1: usable for this address when checked
    reason      TEXT NOT NULL,                -- verdict code (src/keys/types.ts KEY_REASONS)
    details     TEXT NOT NULL,                -- JSON: user IDs / subject, issuer, key usage, EKU, addresses
    material    TEXT NOT NULL,                -- armored OpenPGP public key or PEM certificate; never secret material
    imported_at INTEGER NOT NULL,             -- ms since epoch
    checked_at  INTEGER NOT NULL,             -- ms since epoch: when the verdict was computed
    PRIMARY KEY (fingerprint, address)
  );
  CREATE INDEX recipient_keys_address ON recipient_keys(address);
  `,
  // 14: key discovery (E2E issue): the last lookup per address and source, so repeated lookups within the TTL stay off the network
  `
  CREATE TABLE key_lookups (
    address    TEXT NOT NULL,                 -- local part as written, domain lower case
    source     TEXT NOT NULL,                 -- wkd (later keyserver, dns)
    checked_at INTEGER NOT NULL,              -- ms since epoch
    outcome    TEXT NOT NULL,                 -- found | not-found | failed | timeout
    method     TEXT,                          -- wkd: advanced | direct; NULL when nothing answered
    detail     TEXT,                          -- why nothing was found, e.g. "HTTP 404 from example.org"; no key material
    PRIMARY KEY (address, source)
  );
  `,
  // 15: organisation keys (E2E issue): the gateway's own OpenPGP key and S/MIME certificate, the private key sealed under the master key
  `
  CREATE TABLE org_keys (
    kind              TEXT PRIMARY KEY,       -- pgp | smime: one organisation key of each kind
    fingerprint       TEXT NOT NULL,          -- lower-case hex: OpenPGP fingerprint, or SHA-256 of the certificate DER
    algorithm         TEXT NOT NULL,          -- e.g. eddsaLegacy/ed25519Legacy + ecdh/curve25519Legacy, RSA 3072
    created_at        INTEGER NOT NULL,       -- ms since epoch: key creation / certificate notBefore
    expires_at        INTEGER,                -- ms since epoch; NULL: never
    details           TEXT NOT NULL,          -- JSON: user IDs / subject, issuer, serial; never secret material
    public_material   TEXT NOT NULL,          -- armored OpenPGP public key, or PEM certificate followed by its chain
    secret_ciphertext BLOB NOT NULL,          -- the private key, AES-256-GCM under the master key (iv | tag | ciphertext)
    key_id            TEXT NOT NULL,          -- master key that sealed it
    stored_at         INTEGER NOT NULL        -- ms since epoch
  );
  `,
  // 16: end-to-end delivery (E2E issue): each pgp / smime recipient's own encrypted copy and the key it was made for
  `
  ALTER TABLE recipients ADD COLUMN e2e_copy TEXT;         -- spool copy name (e.g. r3), or 'passthrough' for mail that arrived encrypted; NULL: none
  ALTER TABLE recipients ADD COLUMN key_fingerprint TEXT;  -- the recipient key the copy is encrypted to
  ALTER TABLE recipients ADD COLUMN key_source TEXT;       -- where that key came from: admin | wkd | keyserver | dns
  ALTER TABLE recipients ADD COLUMN e2e_copy_size INTEGER; -- bytes of that copy (the SIZE declared when it is sent)
  `,
  // 17: the archive (archive issue): every accepted message's encrypted copy, its metadata and per-recipient evidence
  `
  ALTER TABLE messages ADD COLUMN archived INTEGER NOT NULL DEFAULT 1;  -- 0: still to be archived (delivery and removal wait); 1: archived or not archived by policy
  CREATE TABLE archive_messages (
    id              TEXT PRIMARY KEY,         -- the queue id
    origin          TEXT NOT NULL,            -- smtp | portal-reply
    message_id      TEXT,                     -- the Message-ID header without <>, NULL when absent
    received_at     INTEGER NOT NULL,         -- ms since epoch: accepted
    archived_at     INTEGER NOT NULL,         -- ms since epoch
    sender          TEXT NOT NULL,            -- envelope sender, '' for the null sender
    sender_domain   TEXT NOT NULL,            -- lower case, '' for the null sender
    connector       TEXT NOT NULL,
    client_ip       TEXT NOT NULL,
    tls_version     TEXT,                     -- the submitting session's TLS, NULL when cleartext
    auth_user       TEXT,
    size            INTEGER NOT NULL,         -- bytes of the archived message
    content_sha256  TEXT NOT NULL,            -- hex sha256 of the archived message bytes
    object_key      TEXT NOT NULL,            -- the object holding its encrypted copy (its own, or a pack shared with entries archived together)
    object_offset   INTEGER NOT NULL,         -- where its ciphertext starts in that object
    object_length   INTEGER NOT NULL,         -- bytes of its ciphertext
    wrapped_key     BLOB,                     -- its data key wrapped by the master key; NULL once purged (crypto-shredded)
    key_id          TEXT,                     -- the master key that wrapped it
    subject_sealed  BLOB,                     -- the Subject, AES-256-GCM under the entry's data key (iv | tag | ciphertext)
    verdict         TEXT NOT NULL,            -- JSON: phi, categories with counts and confidence, protection, rules; never values
    retain_until    INTEGER NOT NULL,         -- ms since epoch: archive.retention after received_at
    hold            INTEGER NOT NULL DEFAULT 0, -- 1: legal hold (never purged)
    purged_at       INTEGER,                  -- ms since epoch: key destroyed and ciphertext removed
    record_seq      INTEGER NOT NULL          -- audit_log seq of the archive:record event for this row's current content
  );
  CREATE INDEX archive_messages_received ON archive_messages(received_at);
  CREATE INDEX archive_messages_sender ON archive_messages(sender, received_at);
  CREATE INDEX archive_messages_sender_domain ON archive_messages(sender_domain, received_at);
  CREATE INDEX archive_messages_message_id ON archive_messages(message_id);
  CREATE INDEX archive_messages_retain ON archive_messages(retain_until);
  CREATE TABLE archive_recipients (
    archive_id      TEXT NOT NULL REFERENCES archive_messages(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    address         TEXT NOT NULL,
    domain          TEXT NOT NULL,
    bcc             INTEGER NOT NULL DEFAULT 0,
    method          TEXT,                     -- tls-verified | pgp | smime | portal | tls-opportunistic | block | quarantine; NULL: not decided
    requirement     TEXT,                     -- the transport requirement
    decision        TEXT,                     -- JSON: the decision's reasons
    key_fingerprint TEXT,                     -- end-to-end: the recipient key used
    key_source      TEXT,
    state           TEXT NOT NULL,            -- the queue state; final: delivered | bounced | expired | deleted
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_attempt_at INTEGER,
    finished_at     INTEGER,
    evidence        TEXT,                     -- JSON: the last attempt's MX, IP, TLS version, cipher, certificate, verified, MTA-STS, DANE, reply
    record_seq      INTEGER NOT NULL,
    PRIMARY KEY (archive_id, seq)
  );
  CREATE INDEX archive_recipients_address ON archive_recipients(address, archive_id);
  CREATE INDEX archive_recipients_domain ON archive_recipients(domain, archive_id);
  CREATE INDEX archive_recipients_method ON archive_recipients(method, archive_id);
  CREATE INDEX archive_recipients_state ON archive_recipients(state, archive_id);
  CREATE TABLE archive_terms (
    archive_id      TEXT NOT NULL REFERENCES archive_messages(id) ON DELETE CASCADE,
    term            TEXT NOT NULL,            -- category:<name> for DLP categories; s:<keyed hash> for a subject word (never the word)
    PRIMARY KEY (term, archive_id)
  );
  CREATE INDEX archive_terms_entry ON archive_terms(archive_id);
  `,
  // 18: the gateway's own signing key and the archive's signed checkpoints (archive issue: integrity)
  `
  CREATE TABLE gateway_keys (
    purpose           TEXT PRIMARY KEY,       -- e.g. checkpoint-signing
    algorithm         TEXT NOT NULL,          -- e.g. ed25519
    public_key        TEXT NOT NULL,          -- PEM (SPKI)
    fingerprint       TEXT NOT NULL,          -- lower-case hex SHA-256 of the SPKI DER
    secret_ciphertext BLOB NOT NULL,          -- the private key (PKCS#8 DER), AES-256-GCM under the master key (iv | tag | ciphertext)
    key_id            TEXT NOT NULL,          -- master key that sealed it
    created_at        INTEGER NOT NULL        -- ms since epoch
  );
  CREATE TABLE archive_checkpoints (
    seq             INTEGER PRIMARY KEY,      -- 1, 2, 3 … without gaps
    ts              INTEGER NOT NULL,         -- ms since epoch
    reason          TEXT NOT NULL,            -- count | interval | start | stop
    audit_seq       INTEGER NOT NULL,         -- the audit chain head it covers
    audit_hash      TEXT NOT NULL,            -- that event's hash
    prev_hash       TEXT NOT NULL,            -- the previous checkpoint's hash, 64 zeros for the first
    hash            TEXT NOT NULL,            -- hex sha256 of this checkpoint's canonical form
    key_fingerprint TEXT NOT NULL,            -- the signing key
    signature       TEXT NOT NULL             -- base64 Ed25519 signature over the canonical form
  );
  `,
  // 19: auditor console users (archive issue: console); their web sessions
  `
  CREATE TABLE console_users (
    name            TEXT PRIMARY KEY,
    role            TEXT NOT NULL,            -- admin | auditor | auditor-content
    password_hash   TEXT NOT NULL,            -- argon2id PHC string
    totp_sealed     BLOB NOT NULL,            -- the TOTP secret, AES-256-GCM under the master key (iv | tag | ciphertext)
    key_id          TEXT NOT NULL,            -- master key that sealed it
    totp_last_step  INTEGER NOT NULL DEFAULT 0, -- the last 30-second step a code was accepted for (each code works once)
    failures        INTEGER NOT NULL DEFAULT 0, -- failed sign-ins since the last success
    locked_until    INTEGER NOT NULL DEFAULT 0, -- ms since epoch; 0: not locked
    disabled        INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    last_sign_in_at INTEGER
  );
  CREATE TABLE console_sessions (
    token_hash      TEXT PRIMARY KEY,         -- hex sha256 of the session cookie's token
    name            TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    last_seen_at    INTEGER NOT NULL,         -- the idle timeout counts from here
    remote_ip       TEXT NOT NULL
  );
  CREATE INDEX console_sessions_name ON console_sessions(name);
  `,
  // 20: what `archive purge` walks (archive issue: retention). Partial indexes
  // (SQLite and PostgreSQL both have them): the entries due for purge in retention order, and the live
  // (not purged) entries of each object, so a pack is removed once its last live entry goes, and the
  // held entries (few) the purge reports; purged entries leave all three, so none grows with the years
  // of purged rows.
  `
  CREATE INDEX archive_messages_due ON archive_messages(retain_until, id) WHERE purged_at IS NULL AND hold = 0;
  CREATE INDEX archive_messages_live_object ON archive_messages(object_key) WHERE purged_at IS NULL;
  CREATE INDEX archive_messages_held ON archive_messages(retain_until) WHERE hold = 1 AND purged_at IS NULL;
  `,
  // 21: archive fixes (archive issue). Address search whatever the case: expression indexes on lower()
  // (SQLite and PostgreSQL both have them) replace the plain ones, which only the search used; no new
  // column, so the archive rows' canonical hashes (records.ts) are unchanged. The console's audit log
  // page filters by event type newest first: (type, seq) finds a rare type on a big log without a scan.
  `
  CREATE INDEX audit_log_type ON audit_log(type, seq);
  CREATE INDEX archive_messages_sender_lower ON archive_messages(lower(sender), received_at);
  CREATE INDEX archive_recipients_address_lower ON archive_recipients(lower(address), archive_id);
  DROP INDEX archive_messages_sender;
  DROP INDEX archive_recipients_address;
  `,
  // 22: finished messages kept for `queue show` (issue 15, first-run defects): what happened to each recipient of a message
  // once all are final, for queue.keepFinished, pruned by the daemon. Envelope and outcomes only, never content or subject.
  `
  CREATE TABLE finished_messages (
    id            TEXT PRIMARY KEY,          -- the queue id
    created_at    INTEGER NOT NULL,          -- accepted at, ms since epoch
    finished_at   INTEGER NOT NULL,          -- the last recipient became final
    sender        TEXT NOT NULL,
    size          INTEGER NOT NULL,
    connector     TEXT NOT NULL,
    client_ip     TEXT NOT NULL,
    recipients    TEXT NOT NULL              -- JSON array in RCPT order: address, state, attempts, times, last reply, method
  );
  CREATE INDEX finished_messages_finished ON finished_messages(finished_at);
  `,
  // 23: the row /readyz rewrites to prove the database takes a write (a read-only file or a
  // full disk fails it; an empty transaction would not): one row, updated in place. Alerts
  // (docs/alerts.md): when each cause last alerted (one alert per cause per period, across
  // restarts) and how far the monitor has read and verified the audit chain.
  `
  CREATE TABLE health_probe (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    probed_at       INTEGER NOT NULL          -- ms since epoch of the last readiness write
  );
  CREATE TABLE alert_state (
    cause_key       TEXT PRIMARY KEY,         -- e.g. posture-downgrade:example.org, queue-age
    sent_at         INTEGER NOT NULL,         -- when the last alert for it was sent
    suppressed      INTEGER NOT NULL DEFAULT 0 -- repeats counted since then
  );
  CREATE TABLE alert_cursor (
    id              INTEGER PRIMARY KEY CHECK (id = 1),
    audit_seq       INTEGER NOT NULL,         -- the last audit event read for alert causes
    verified_seq    INTEGER NOT NULL,         -- the last audit event whose chain link was verified
    verified_hash   TEXT NOT NULL,            -- its hash
    full_verify_at  INTEGER NOT NULL          -- when the whole chain was last verified
  );
  `,
  // 24: small messages' encrypted spool content (SGSPOOL1 bytes, docs/spool-format.md), written in
  // the transaction that queues them instead of as a file with its own fsyncs (queue.inlineMaxBytes)
  `
  CREATE TABLE spool_inline (
    id              TEXT PRIMARY KEY,         -- queue id, as the spool file's name would be
    data            BLOB NOT NULL             -- the whole SGSPOOL1 ciphertext
  );
  `,
  // 25: a probe result's rows in MX order by a column of their own, not by SQLite's rowid (which PostgreSQL
  // has no counterpart for; docs/scale-out.md); the rows already cached keep the order they were written in
  `
  ALTER TABLE probe_results ADD COLUMN mx_order INTEGER NOT NULL DEFAULT 0; -- 0, 1, 2 … in the order the MX addresses were probed
  UPDATE probe_results SET mx_order = rowid;
  `,
  // 26: the queue at 100 000 messages (issue 16). `queue summary` counts waiting recipients per domain and state from
  // one index walked in domain order (replacing recipients_domain, its prefix, so a recipient row keeps the same
  // number of indexes); `queue list` and the oldest-message figures read messages oldest first from messages_created
  // (an index appended at its end as mail arrives) instead of sorting the table. The archive stage's "next
  // messages to archive, oldest first" reads a partial index of the few not archived yet (like
  // messages_uninspected): without it, it walked every queued message in messages_created order (65 ms a batch
  // with 100 000 deferred) or scanned the table.
  `
  CREATE INDEX recipients_domain_state ON recipients(domain, state);
  DROP INDEX recipients_domain;
  CREATE INDEX messages_created ON messages(created_at, id);
  CREATE INDEX messages_unarchived ON messages(created_at) WHERE archived = 0;
  `,
  // 27: delivery claims with leases (issue 19, several nodes on one database; docs/scale-out.md "Delivery claims"):
  // an in-flight recipient names the node working on it and until when its lease runs (renewed while the attempt
  // goes on). A lease that ran out (its node died) is taken over: the recipient returns to deferred. No index: the
  // takeover and renewal read the few in-flight rows through recipients_due (state, next_attempt).
  `
  ALTER TABLE recipients ADD COLUMN lease_node TEXT;        -- the node id that claimed this in-flight recipient; NULL when not in flight
  ALTER TABLE recipients ADD COLUMN lease_until INTEGER;  -- ms since epoch: its lease ends then unless renewed; NULL when not in flight
  `,
  // 28: the nodes sharing the database (issue 19; docs/scale-out.md "Nodes"): each running node's row (registered
  // at start, a heartbeat while it runs, stopped_at at a clean stop) for `sealgate nodes`; and the leases of the
  // jobs one node runs at a time (alerts, TLS reports, sweeps), taken or renewed in one INSERT … ON CONFLICT
  `
  CREATE TABLE nodes (
    id           TEXT PRIMARY KEY,           -- HOST/PID/random, the id its delivery leases carry (recipients.lease_node)
    hostname     TEXT NOT NULL,              -- the machine's host name
    address      TEXT NOT NULL,              -- its SMTP listeners, e.g. 0.0.0.0:25, 0.0.0.0:587
    version      TEXT NOT NULL,              -- the sealgate version it runs
    started_at   INTEGER NOT NULL,          -- ms since epoch
    heartbeat_at INTEGER NOT NULL,          -- ms since epoch: its last beat
    stopped_at   INTEGER                    -- ms since epoch: its clean stop; NULL while it runs (or died)
  );
  CREATE TABLE node_jobs (
    name        TEXT PRIMARY KEY,            -- the job: alerts, tlsrpt-reports, finished-pruner, …
    node_id     TEXT NOT NULL,               -- the node holding its lease
    lease_until INTEGER NOT NULL            -- ms since epoch: the lease ends then unless renewed
  );
  `,
  // 29: which node accepted a message (issue 19; docs/scale-out.md "Nodes"): with several nodes on one database each
  // inspects and archives the mail it accepted, and takes over the mail of a node that stopped or went stale, instead
  // of every node inspecting every message. NULL (rows from before, internal notices): any node's.
  `
  ALTER TABLE messages ADD COLUMN accepted_by TEXT; -- the node id (nodes.id) that answered 250 for it; NULL: any node's
  `,
  // 30: delivery.perDomainRate across nodes (issue 19; src/delivery/shared-limits.ts): each recipient domain's token
  // bucket, read and written back by the claim that takes a token (claims are one at a time on PostgreSQL). A single
  // node on SQLite keeps its buckets in memory and leaves this table empty.
  `
  CREATE TABLE delivery_rate_buckets (
    domain       TEXT PRIMARY KEY,           -- recipient domain (lower case)
    tokens_micro INTEGER NOT NULL,          -- tokens left, in millionths
    at           INTEGER NOT NULL           -- ms since epoch: when they were counted
  );
  `,
  // 31: portal passkey challenges in the database (issue 19; src/portal/http/passkey-challenges.ts): a passkey
  // sign-in's options and its answer may reach different portal nodes. One row per binding (a reading session or a
  // pre-session cookie on one link), taken once with DELETE … RETURNING; expired rows are swept.
  `
  CREATE TABLE portal_passkey_challenges (
    binding     TEXT PRIMARY KEY,            -- SHA-256 (hex) of what asked for it, never the session or cookie itself
    challenge   TEXT NOT NULL,               -- the WebAuthn challenge (base64url), good once
    expires_at  INTEGER NOT NULL             -- ms since epoch: refused from then on, and swept
  );
  CREATE INDEX portal_passkey_challenges_expiry ON portal_passkey_challenges (expires_at);
  `,
  // 32: the ingress rate limits and burst holds in the database (issue 19; src/smtp/limit-counts.ts, docs/rate-limits.md):
  // every node counts into the same rows, so a limit holds across nodes and a restart. Keys are keyed hashes (derived
  // from the master key) of the connector, sender and window, never an address. A window's count is the sum of its
  // (at most 60) buckets; a bucket row is swept once no window reaches it (`expires_at`).
  `
  CREATE TABLE ingress_counts (
    key    TEXT NOT NULL,                -- keyed hash (hex) of what is counted: unit, window, scope, connector, sender
    bucket INTEGER NOT NULL,             -- time / (window / 60), floored
    n      INTEGER NOT NULL,             -- messages or recipients counted in it
    expires_at INTEGER NOT NULL,         -- ms since epoch: no window reaches the bucket from then on; swept
    PRIMARY KEY (key, bucket)
  );
  CREATE INDEX ingress_counts_expiry ON ingress_counts (expires_at);
  CREATE TABLE ingress_contacts (
    pair      TEXT PRIMARY KEY,          -- keyed hash (hex) of connector, sender and recipient
    last_sent INTEGER NOT NULL           -- ms since epoch: the last accepted message from the sender to the recipient
  );
  CREATE INDEX ingress_contacts_last_sent ON ingress_contacts (last_sent);
  `,
  // 33: PostgreSQL only (the function sealgate_audit_append, src/audit/log.ts): nothing changes on SQLite, whose
  // writer keeps the chain head itself. Kept as an entry so both lists number their migrations alike.
  `
  SELECT 1;
  `,
  // 34: console evidence exports in the database (issue 19; src/console/http/export-jobs.ts): an export's progress
  // page and its download answer on any node. One row per export, written by the node running it (progress at most
  // once a second); its ZIP, encrypted (SGSPOOL1), is the object exports/<id> in the object store. Admission counts
  // these rows under an advisory lock; rows (and their objects) are swept once finished `keepMs` ago or downloaded.
  `
  CREATE TABLE console_exports (
    id              TEXT PRIMARY KEY,        -- 16 random bytes as hex: the URL and the object key
    owner           TEXT NOT NULL,           -- the console user who started it (the only one who sees it)
    content         INTEGER NOT NULL,         -- 1: with the messages (EML files), 0: metadata and evidence only
    node_id         TEXT NOT NULL,           -- the node running it (nodes.id): failed once that node is no longer live
    state           TEXT NOT NULL,           -- running | done | failed
    started_at      INTEGER NOT NULL,         -- ms since epoch
    finished_at     INTEGER,                  -- ms since epoch: done or failed; NULL while it runs
    total           INTEGER,                  -- messages to write, NULL until the entries are selected
    done            INTEGER NOT NULL DEFAULT 0, -- messages written so far
    bytes           INTEGER NOT NULL DEFAULT 0, -- ZIP bytes so far; once done the ZIP's size (plaintext)
    entries         INTEGER,                  -- once done: entries in the ZIP
    messages        INTEGER,                  -- once done: messages in the ZIP
    manifest_sha256 TEXT,                    -- once done: hex SHA-256 of the signed manifest
    problem         TEXT                     -- once failed: one line for the user, never content
  );
  CREATE INDEX console_exports_owner ON console_exports (owner, started_at);
  `,
  // 35: a queued message's rows in one statement (issue 16; src/queue/store.ts insertQueuedMessage): an INSERT into
  // this view writes the message row, its recipients (a JSON array of rows, seq from 1 in order) and, when given, its
  // inline content (src/spool/inline-store.ts). Each statement costs the single writer a turn of the event loop;
  // three became one. Stores nothing itself. PostgreSQL keeps the three statements (its migration 35 is empty).
  `
  CREATE VIEW queue_message_insert AS SELECT
    NULL AS id, NULL AS created_at, NULL AS sender, NULL AS size, NULL AS spool_key_id, NULL AS listener, NULL AS connector,
    NULL AS client_ip, NULL AS helo, NULL AS tls_version, NULL AS auth_user, NULL AS body_type, NULL AS smtputf8,
    NULL AS requiretls, NULL AS dsn_ret, NULL AS dsn_envid, NULL AS bare_line_endings, NULL AS inspected, NULL AS route,
    NULL AS archived, NULL AS accepted_by,
    NULL AS recipients,  -- JSON: [[address, domain, state, next_attempt, dsn_notify, dsn_orcpt, requirement, method], ...]
    NULL AS inline_data; -- SGSPOOL1 ciphertext, or NULL
  CREATE TRIGGER queue_message_insert_rows INSTEAD OF INSERT ON queue_message_insert
  BEGIN
    INSERT INTO messages (id, created_at, sender, size, spool_key_id, listener, connector, client_ip, helo,
        tls_version, auth_user, body_type, smtputf8, requiretls, dsn_ret, dsn_envid, bare_line_endings, inspected, route, archived, accepted_by)
      VALUES (NEW.id, NEW.created_at, NEW.sender, NEW.size, NEW.spool_key_id, NEW.listener, NEW.connector, NEW.client_ip, NEW.helo,
        NEW.tls_version, NEW.auth_user, NEW.body_type, NEW.smtputf8, NEW.requiretls, NEW.dsn_ret, NEW.dsn_envid, NEW.bare_line_endings,
        NEW.inspected, NEW.route, NEW.archived, NEW.accepted_by);
    INSERT INTO recipients (message_id, seq, address, domain, state, next_attempt, dsn_notify, dsn_orcpt, requirement, method)
      SELECT NEW.id, CAST(r.key AS INTEGER) + 1, json_extract(r.value, '$[0]'), json_extract(r.value, '$[1]'), json_extract(r.value, '$[2]'),
        json_extract(r.value, '$[3]'), json_extract(r.value, '$[4]'), json_extract(r.value, '$[5]'), json_extract(r.value, '$[6]'),
        json_extract(r.value, '$[7]')
      FROM json_each(NEW.recipients) AS r ORDER BY r.key;
    INSERT INTO spool_inline (id, data) SELECT NEW.id, NEW.inline_data WHERE NEW.inline_data IS NOT NULL;
  END;
  `,
  // 36: a message's inline content (src/spool/inline-store.ts) goes with its messages row, whoever deletes it (the
  // finishing transaction, queue delete, a backup dropping rows whose content is gone): one statement fewer on the
  // writer for every finished message (issue 16). Same trigger on PostgreSQL.
  `
  CREATE TRIGGER messages_inline_gone AFTER DELETE ON messages
  BEGIN
    DELETE FROM spool_inline WHERE id = OLD.id;
  END;
  `,
  // 37: archive contents whose pack is not stored yet (src/archive/pending.ts): a small message's ciphertext, sealed for
  // its place in a pack, goes in with its entry; the pack is written from its pieces later and they are deleted
  `
  CREATE TABLE archive_pending (
    object_key      TEXT NOT NULL,            -- the pack the entry names (archive_messages.object_key)
    object_offset   INTEGER NOT NULL,         -- its place there (archive_messages.object_offset)
    data            BLOB NOT NULL,            -- the entry's ciphertext, exactly as the pack will hold it
    created_at      INTEGER NOT NULL,         -- ms since epoch
    PRIMARY KEY (object_key, object_offset)
  );
  `,
  // 38: a finished message leaves the queue in one statement (src/queue/finished.ts, finishMessage): one row of the view
  // queue_message_finish writes its finished_messages row (as recordFinished's INSERT … SELECT, upsert included) and
  // deletes its messages row (its recipients and inline content go with it), one statement fewer on the single writer
  // for every finished message (issue 16). test/queue/finished-store.test.ts checks it writes what recordFinished writes:
  // a change to the finished row's columns or its recipients' JSON needs a migration that makes this trigger again.
  `
  CREATE VIEW queue_message_finish AS SELECT NULL AS id, NULL AS finished_at;
  CREATE TRIGGER queue_message_finish_rows INSTEAD OF INSERT ON queue_message_finish
  BEGIN
    INSERT INTO finished_messages (id, created_at, finished_at, sender, size, connector, client_ip, recipients)
      SELECT m.id, m.created_at, coalesce(NEW.finished_at, m.created_at), m.sender, m.size, m.connector, m.client_ip,
        (SELECT json_group_array(json_object('address', r.address, 'state', r.state, 'attempts', r.attempts, 'finishedAt', r.finished_at,
            'lastAttemptAt', r.last_attempt_at, 'lastCode', r.last_code, 'lastEnhanced', r.last_enhanced, 'lastMx', r.last_mx,
            'lastError', r.last_error, 'method', r.method, 'requirement', r.requirement))
          FROM (SELECT * FROM recipients WHERE message_id = m.id ORDER BY seq) r)
        FROM messages m WHERE m.id = NEW.id
      ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, finished_at = excluded.finished_at, sender = excluded.sender,
        size = excluded.size, connector = excluded.connector, client_ip = excluded.client_ip, recipients = excluded.recipients;
    DELETE FROM messages WHERE id = NEW.id;
  END;
  `,
];

/** The latest schema version (db status compares PRAGMA user_version with it). */
export const SCHEMA_VERSION = MIGRATIONS.length;

/** Applies the pending migrations, up to version `upTo` (the latest unless told: tests build older databases with it); returns the version reached. */
export async function migrate(db: Database, upTo: number = MIGRATIONS.length): Promise<number> {
  const row = await db.get<{ user_version: number }>('PRAGMA user_version');
  const current = row?.user_version ?? 0;
  for (let v = current; v < Math.min(upTo, MIGRATIONS.length); v++) {
    await db.transaction(async (tx) => {
      await tx.exec(MIGRATIONS[v] ?? '');
      await tx.exec(`PRAGMA user_version = ${v + 1}`);
    });
  }
  return Math.min(upTo, MIGRATIONS.length);
}
