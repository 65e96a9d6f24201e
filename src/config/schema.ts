/**
 * The configuration schema: one zod object, a default and a description on
 * every key. Unknown keys are rejected with their path. The key names listed
 * as a public contract in the README (dataDir, smtp.listeners[], connectors[],
 * dns.servers, delivery.port, tls.trustedCaFiles, keys.masterKeyFile,
 * log.level) must keep their names.
 */
import { isIP } from 'node:net';
import { availableParallelism, totalmem } from 'node:os';
import { z } from 'zod';
import { parseCidr } from '../net/cidr.js';
import { TRANSPORT_REQUIREMENTS } from '../delivery/transport-requirement.js';
import { duration } from './duration.js';
import { DOMAIN_POLICIES } from '../probe/requirement.js';
import { parseKeyserverUrl } from '../keys/keyserver.js';
import { policySchema } from '../policy/schema.js';
import { portalSchema } from '../portal/config-schema.js';
import { adminSchema } from '../console/config-schema.js';
import { alertsSchema } from '../alerts/config-schema.js';
import { archiveSchema } from '../archive/config-schema.js';
import { storeSchema } from '../db/config-schema.js';
import { objectsSchema } from '../objects/config-schema.js';
import { dkimSchema } from '../dkim/config-schema.js';
import { defaultMaxThreadMemoryMb, POOL_DEFAULTS } from '../inspect/schedule.js';

const MiB = 1024 * 1024;

const hostPort = z
  .string()
  .refine((v) => parseHostPort(v) !== undefined, {
    message: 'expected "host:port" (IPv6 as "[::1]:53"), e.g. "127.0.0.1:53"',
  })
  .describe('DNS server as host:port');

export function parseHostPort(v: string): { host: string; port: number } | undefined {
  const m = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(v) ?? /^([^:[\]]+):(\d{1,5})$/.exec(v);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (!m[1] || port < 1 || port > 65535) return undefined;
  return { host: m[1], port };
}

const cidr = z.string().refine((v) => parseCidr(v) !== undefined, {
  message: 'expected an IPv4 or IPv6 address or CIDR range, e.g. "40.92.0.0/15" or "2a01:111:f400::/48"',
});

/** A regex from config: compiles, bounded, and without the nested quantifiers that backtrack catastrophically. */
const safeRegex = z
  .string()
  .min(1)
  .max(300)
  .refine(
    (v) => {
      try {
        new RegExp(v, 'g');
        return true;
      } catch {
        return false;
      }
    },
    { message: 'not a valid regular expression' },
  )
  .refine((v) => !/\((?:[^()\\]|\\.)*[+*}]\)[+*{]/.test(v), { message: 'nested quantifiers such as (a+)+ can take exponential time; rewrite the pattern without a quantified group that itself ends in a quantifier' });

const customDetectorSchema = z.strictObject({
  id: z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,63}$/i, { message: 'expected a short id (letters, digits, ".", "_", "-")' }),
  category: z.string().regex(/^[A-Z][A-Z0-9_]{1,39}$/, { message: 'expected an upper-case category name such as MEMBER_ID' }),
  pattern: safeRegex.describe('What a value looks like, e.g. "\\bACM\\d{9}\\b".'),
  keywords: z.array(z.string().min(1).max(60)).max(50).default([]).describe('Words that support a match when within `window` characters.'),
  keywordRequired: z.boolean().default(true).describe('Ignore matches without a keyword nearby.'),
  window: z.number().int().min(1).max(1000).default(60),
  validator: z.enum(['none', 'luhn', 'aba', 'npi']).default('none').describe('Check digits the value (its digits) must pass.'),
  minCount: z.number().int().min(1).max(1000).default(1).describe('Distinct values needed for a finding.'),
  identifier: z.boolean().default(true).describe('The value identifies a person: next to health information it makes PHI.'),
});

const domainPattern = z
  .string()
  .regex(/^(\*|(\*\.)?[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*)$/i, {
    message: 'expected a domain ("example.org"), a wildcard for its subdomains ("*.example.org") or "*"',
  });

export const listenerSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, { message: 'use letters, digits, "-" or "_"' }).describe('Listener name, used in logs and audit events.'),
    host: z.string().refine((v) => isIP(v) !== 0 || v === 'localhost', { message: 'expected an IP address to bind, e.g. "127.0.0.1" or "::"' }).default('127.0.0.1').describe('Address to bind.'),
    port: z.number().int().min(0).max(65535).default(2525).describe('TCP port (0 picks a free port; the chosen one is logged).'),
    tls: z.enum(['starttls', 'implicit', 'none']).default('starttls').describe('starttls: offer STARTTLS; implicit: TLS from the first byte (port 465); none: cleartext only.'),
    certFile: z.string().optional().describe('PEM certificate chain (server certificate first). Required unless tls is "none".'),
    keyFile: z.string().optional().describe('PEM private key for certFile.'),
    auth: z.boolean().default(false).describe('Offer AUTH PLAIN/LOGIN (only after TLS) for local users (sealgate users add).'),
    chunking: z.boolean().default(true).describe('Offer CHUNKING (BDAT, RFC 3030). Exchange Online needs it for messages with bare line feeds.'),
    proxyProtocol: z.union([z.boolean(), z.array(cidr)]).default(false).describe('Expect a PROXY protocol v1 header: true from any peer, or only from the listed load balancer addresses or CIDR ranges (other peers connect directly).'),
    connectors: z.array(z.string()).default([]).describe('Connector names accepted on this listener; empty means all.'),
  })
  .refine((l) => l.tls === 'none' || (l.certFile !== undefined && l.keyFile !== undefined), {
    message: 'a TLS listener needs certFile and keyFile (or set tls: none)',
    path: ['certFile'],
  });

export const clientCertSchema = z.strictObject({
  names: z.array(z.string().min(1)).default([]).describe('Accepted certificate names (subject CN or DNS SAN, "*.example.org" allowed); empty accepts any certificate that verifies.'),
  caFiles: z.array(z.string()).default([]).describe('CA certificates (PEM) that client certificates must chain to; empty uses the system CAs plus tls.trustedCaFiles.'),
});

const windowLimitsSchema = z
  .strictObject({
    messagesPerMinute: z.number().int().min(1).max(1_000_000).optional().describe('Messages accepted per minute (sliding window).'),
    messagesPerHour: z.number().int().min(1).max(10_000_000).optional().describe('Messages accepted per hour (sliding window).'),
    recipientsPerMinute: z.number().int().min(1).max(10_000_000).optional().describe('Recipients accepted per minute (sliding window).'),
    recipientsPerHour: z.number().int().min(1).max(100_000_000).optional().describe('Recipients accepted per hour (sliding window).'),
  })
  .prefault({});

/** Rate limits and burst holds of one connector (docs/rate-limits.md); counters live in the daemon's memory. */
export const connectorLimitsSchema = z.strictObject({
  action: z.enum(['defer', 'hold']).default('defer').describe('Over a limit: defer (451 4.7.1 at MAIL FROM or RCPT, the client retries later) or hold (accept; the recipients wait held for review: queue list --held, queue release).'),
  perSender: windowLimitsSchema.describe('Limits per envelope sender address on this connector.'),
  perConnector: windowLimitsSchema.describe('Limits for all senders of this connector together.'),
  burst: z
    .strictObject({
      newRecipients: z.number().int().min(1).max(100_000).describe('Hold a message (and alert) when its sender has sent to more than this many external recipients it had not sent to within `remember`, within `within`.'),
      within: duration(1000).default(600_000).describe('The burst window, e.g. "10m".'),
      remember: duration(60_000).default(30 * 86_400_000).describe('How long a recipient counts as known to a sender after the last message to it, e.g. "30d".'),
    })
    .optional()
    .describe('Anomaly hold: one sender suddenly mailing many new external recipients (outside senderDomains).'),
  maxTrackedKeys: z.number().int().min(100).max(10_000_000).default(100_000).describe('Most sender-recipient pairs the burst detection remembers (in the database); beyond it the least recently seen are forgotten first, at the next sweep.'),
});

export const connectorSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9_-]*$/i, { message: 'use letters, digits, "-" or "_"' }).describe('Connector name, used in logs and audit events.'),
  kind: z.enum(['m365', 'workspace', 'generic']).default('generic').describe('Who connects: m365 (Exchange Online outbound connector), workspace (Google outbound gateway / SMTP relay) or generic.'),
  allowIps: z
    .array(cidr)
    .min(1, { message: 'list at least one client address or range' })
    .optional()
    .describe('Client IP addresses or CIDR ranges (IPv4 and IPv6) that may use this connector. Required for kind generic; for m365 / workspace, omit it to use the provider\'s published ranges (config/ranges/).'),
  rangesFile: z.string().min(1).optional().describe('kind m365 / workspace without allowIps: a ranges file to use instead of the packaged config/ranges/<kind>.yaml (same format).'),
  senderDomains: z.array(domainPattern).min(1, { message: 'list the sender domains this connector may relay for' }).describe('Envelope sender domains this connector may relay for ("*.example.org" for subdomains, "*" for any).'),
  requireTls: z.boolean().default(true).describe('Refuse MAIL FROM until the session uses TLS (530 5.7.0).'),
  requireClientCert: z.union([z.boolean(), clientCertSchema]).default(false).describe('Require a verified TLS client certificate; an object also restricts its names and CAs.'),
  users: z.array(z.string().min(1)).default([]).describe('If set, only these local users (AUTH) may use this connector; unauthenticated sessions are refused.'),
  clientCertNames: z
    .array(z.string().min(1))
    .optional()
    .describe('Require a verified client certificate whose subject CN or a DNS SAN matches one of these names ("*.mail.protection.outlook.com" allowed); a mismatch gets 451 4.7.1 naming clientCertNames.'),
  limits: connectorLimitsSchema.optional().describe('Rate limits per sender and per connector, and burst holds (docs/rate-limits.md); absent: none.'),
});

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;

export const configSchema = z
  .strictObject({
    dataDir: z.string().min(1).default('./data').describe('Directory for the spool, the SQLite database and generated keys. Relative paths resolve against the working directory.'),
    store: storeSchema,
    objects: objectsSchema,
    hostname: z.string().min(1).optional().describe('Name used in the SMTP greeting, Received headers and generated Message-IDs (default: the machine hostname).'),
    log: z
      .strictObject({
        level: z.enum(logLevels).default('info').describe('Log level.'),
        pretty: z.boolean().optional().describe('Human-readable log lines; default: only when stdout is a terminal.'),
      })
      .prefault({}),
    smtp: z
      .strictObject({
        listeners: z.array(listenerSchema).min(1, { message: 'configure at least one listener' }).describe('SMTP listeners.'),
        maxMessageBytes: z.number().int().min(1024).max(1024 * MiB).default(150 * MiB).describe('SIZE advertised and enforced during DATA (552 5.3.4). M365 needs at least 150 MiB.'),
        maxRecipients: z.number().int().min(1).max(100_000).default(1000).describe('Recipients per message; more get 452 4.5.3.'),
        nullSenderMaxRecipients: z
          .number()
          .int()
          .min(1)
          .max(100_000)
          .default(1)
          .describe('Recipients per null-sender (MAIL FROM:<>) message, which skips the sender-domain check; more get 452 4.5.3 and each refusal is audited. A DSN has one recipient.'),
        maxReceivedHeaders: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(50)
          .describe('Received header fields a message may have, the gateway\'s own included (as Postfix\'s hopcount_limit); more: 554 5.4.6 Too many hops (a mail loop).'),
        maxHeaderBytes: z.number().int().min(1024).max(16 * MiB).default(1 * MiB).describe('Size of the header block; larger messages get 552 5.3.4.'),
        maxConnections: z.number().int().min(1).default(1000).describe('Concurrent sessions over all listeners.'),
        maxConnectionsPerIp: z.number().int().min(1).default(100).describe('Concurrent sessions from one client address.'),
        idleTimeoutMs: z.number().int().min(1000).default(5 * 60_000).describe('Idle time allowed between commands (RFC 5321 asks for at least 5 minutes).'),
        dataTimeoutMs: z.number().int().min(1000).default(10 * 60_000).describe('Longest a DATA transfer may take (421 4.4.2 and close).'),
        commandTimeoutMs: z
          .number()
          .int()
          .min(1000)
          .default(30_000)
          .describe('Longest one command line (AUTH continuation lines included) may take from its first byte to its CRLF; then 421 4.4.2 and close. A byte trickled in resets idleTimeoutMs, not this.'),
        maxJunkCommands: z
          .number()
          .int()
          .min(0)
          .default(100)
          .describe('NOOP, RSET, VRFY and HELP allowed per session between accepted messages (as Postfix\'s smtpd_junk_command_limit); more get 421 4.7.0 and close. 0: no limit.'),
        tlsHandshakeTimeoutMs: z.number().int().min(1000).default(30_000).describe('Longest a TLS handshake (STARTTLS or implicit TLS) may take before the connection is closed.'),
        shutdownTimeoutMs: z.number().int().min(0).default(30_000).describe('On SIGTERM, how long in-flight DATA transfers may take to finish.'),
        bareLineEndings: z.enum(['normalize', 'reject']).default('normalize').describe('Bare CR or LF inside DATA: normalize to CRLF (default) or reject with 550 5.6.0. End of data is only ever <CRLF>.<CRLF>.'),
        minFreeBytes: z.number().int().min(0).default(64 * MiB).describe('Free space the spool file system must keep after a message of the declared SIZE (or a quarter of maxMessageBytes when undeclared); otherwise MAIL FROM gets 452 4.3.1. 0 turns the check off.'),
        maxAuthFailures: z.number().int().min(1).default(3).describe('Failed AUTH attempts before the session is closed (421 4.7.0).'),
      })
      .describe('SMTP ingress.'),
    connectors: z.array(connectorSchema).min(1, { message: 'configure at least one connector: nothing could relay otherwise' }).describe('Who may relay through the gateway.'),
    limits: connectorLimitsSchema.optional().describe('Rate limits and burst holds for every connector without its own `limits` (which then replace these whole); absent: none (docs/rate-limits.md).'),
    dns: z
      .strictObject({
        servers: z.array(hostPort).default([]).describe('DNS servers (host:port) for every lookup the gateway makes; empty uses the system resolvers.'),
        dnssecValidating: z
          .boolean()
          .default(false)
          .describe('The servers above validate DNSSEC (e.g. unbound on loopback): only then are DNSSEC-authenticated TLSA records trusted and DANE enforced.'),
        cacheSeconds: z
          .number()
          .int()
          .min(0)
          .max(3600)
          .default(30)
          .describe('Longest time delivery keeps an MX, A, AAAA or TXT answer (A and AAAA: their TTL when shorter); 0 keeps none. Failures are never kept.'),
      })
      .prefault({}),
    inspection: z
      .strictObject({
        enabled: z.boolean().default(true).describe('Inspect every accepted message for PHI and decide each recipient\'s protection before delivery.'),
        e2eDomains: z
          .array(domainPattern)
          .default(['gmail.com', 'googlemail.com', 'yahoo.com', 'outlook.com', 'hotmail.com', 'live.com', 'msn.com', 'aol.com', 'icloud.com', 'me.com', 'mac.com', 'proton.me', 'protonmail.com', 'gmx.com', 'gmx.net', 'web.de', 'yandex.com', 'mail.com', 'zoho.com'])
          .describe('Consumer mailbox providers: PHI to them needs end-to-end encryption or the portal, verified TLS is not enough.'),
        threads: z
          .number()
          .int()
          .min(0)
          .max(32)
          .default(Math.min(4, Math.max(1, availableParallelism() - 1)))
          .describe('Inspection threads (messages are parsed and scanned there, never holding up SMTP); 0 inspects on the main thread. Default: CPUs - 1, 1 to 4.'),
        threadMemory: z.number().int().min(64).max(16_384).default(1024).describe('Heap limit of one inspection thread (MiB); a message that needs more counts as not fully scanned.'),
        maxScanTime: duration(1000).default(60_000).describe('Longest the inspection of one message may take; past it the message counts as not fully scanned (fail closed).'),
        smallMessageSize: z
          .number()
          .int()
          .min(0)
          .max(1024 * MiB)
          .default(POOL_DEFAULTS.smallMessageBytes)
          .describe('Messages up to this size (bytes) are inspected before larger ones and may use the small-message threads.'),
        smallMessageThreads: z
          .number()
          .int()
          .min(0)
          .max(8)
          .default(POOL_DEFAULTS.smallThreads)
          .describe('Inspection threads reserved for small messages (up to smallMessageSize), so a large message never holds up ordinary mail; started when first needed (every general thread on a large message, or a small one waiting burstAfter); 0 reserves none.'),
        burstThreads: z
          .number()
          .int()
          .min(0)
          .max(16)
          .default(POOL_DEFAULTS.burstThreads)
          .describe('Extra inspection threads, at most, started when a message waits and every thread that could take it has been busy on one message for burstAfter; they stop when the queue is empty.'),
        burstAfter: duration(100).default(POOL_DEFAULTS.burstAfterMs).describe('How long every thread must have been busy on one message before a burst thread takes the waiting queue over.'),
        maxThreadMemory: z
          .number()
          .int()
          .min(64)
          .max(262_144)
          .default(defaultMaxThreadMemoryMb(totalmem()))
          .describe('Heap limits of all inspection threads together (MiB, threadMemory each): a burst thread starts only within it. Default: a quarter of the memory, 1024 to 4096.'),
        recycleSize: z
          .number()
          .int()
          .min(0)
          .max(1024 * MiB)
          .default(POOL_DEFAULTS.recycleBytes)
          .describe('A thread that inspected a message larger than this (bytes) is replaced by a fresh one afterwards, giving its memory back to the system.'),
        recycleHeap: z
          .number()
          .int()
          .min(16)
          .max(16_384)
          .default(POOL_DEFAULTS.recycleHeapMb)
          .describe('A thread whose memory (heap and buffers, MiB) is above this after a message is replaced by a fresh one.'),
        customDetectors: z.array(customDetectorSchema).max(50).default([]).describe('Organisation-specific identifiers (MRN, member, account numbers): pattern, keywords, proximity, validator, minimum count.'),
      })
      .prefault({})
      .describe('DLP inspection and the per-recipient decision.'),
    policy: policySchema.describe('Protection policy: profiles (global → connector → sender domain → sender) and rules (docs/policy.md).'),
    dkim: dkimSchema,
    archive: archiveSchema,
    metrics: z
      .strictObject({
        enabled: z.boolean().default(false).describe('Serve Prometheus metrics at http://host:port/metrics.'),
        host: z.string().default('127.0.0.1').describe('Address of the metrics endpoint; keep it on loopback or a management network (no authentication).'),
        port: z.number().int().min(0).max(65535).default(9465).describe('Port of the metrics endpoint (0 picks a free port; the chosen one is logged).'),
        readyTimeout: duration(100).default(2000).describe('How long /readyz waits for its database write before answering 503.'),
      })
      .prefault({})
      .describe('Operational metrics (counts and queue sizes only, never addresses or content) and the /healthz and /readyz checks, on one listener.'),
    queue: z
      .strictObject({
        keepFinished: duration(0)
          .default(7 * 86_400_000)
          .describe('How long a finished message (every recipient delivered, bounced or expired) stays visible to `sealgate queue show` with its per-recipient outcome (no content); the daemon prunes older ones. 0 keeps none.'),
        inlineMaxBytes: z
          .number()
          .int()
          .min(0)
          .max(1024 * 1024)
          .default(128 * 1024)
          .describe('A message whose encrypted content is at most this many bytes is stored in the database, committed with its queue rows in one transaction (one fsync shared by every message accepted at that moment), instead of as a spool file with its own fsyncs. Larger messages are files. 0: every message is a file (docs/spool-format.md).'),
      })
      .prefault({})
      .describe('The queue (docs/queue.md).'),
    probe: z
      .strictObject({
        positiveTtl: duration(0).default(3_600_000).describe('How long a probe result with a usable TLS MX is reused.'),
        negativeTtl: duration(0).default(600_000).describe('How long a probe result without one is reused (shorter, so a fixed MX is noticed soon).'),
        timeout: duration(1000).default(15_000).describe('Connect, greeting and STARTTLS time allowed per MX address.'),
      })
      .prefault({})
      .describe('Recipient MX probing (sealgate probe).'),
    delivery: z
      .strictObject({
        port: z.number().int().min(1).max(65535).default(25).describe('Port of the recipient MX hosts.'),
        enabled: z.boolean().default(true).describe('Run the delivery engine; false keeps accepted mail queued (e.g. on an ingress-only node).'),
        clientCertificate: z
          .strictObject({
            certFile: z.string().describe('PEM certificate chain (the gateway\'s certificate first).'),
            keyFile: z.string().describe('PEM private key of that certificate (mode 0600).'),
          })
          .nullable()
          .default(null)
          .describe('A TLS client certificate presented when delivering, for receivers that bind a connector to it (Exchange Online inbound connector with TlsSenderCertificateName: docs/m365.md). Its name should be hostname, which the gateway sends in EHLO. null: none. Re-read on SIGHUP.'),
        loopStopHeader: z
          .strictObject({
            name: z.string().regex(/^X-[A-Za-z0-9-]{1,60}$/, { message: 'expected a header field name starting with "X-", e.g. "X-Gateway-Processed"' }).describe('The header field name the provider\'s routing rule tests.'),
            secret: z.string().regex(/^[\x21-\x7e]{16,200}$/, { message: 'expected 16 to 200 printable ASCII characters without spaces (e.g. openssl rand -hex 24)' }).describe('Its value: a secret only the gateway and the routing rule know.'),
          })
          .nullable()
          .default(null)
          .describe('Stamp mail delivered back into the organisation\'s own domains (the connectors\' senderDomains) with this header, so the Microsoft 365 / Google Workspace rule that routes external mail here can skip it (docs/m365.md). null: no stamp.'),
        allowAddressLiterals: z
          .boolean()
          .default(false)
          .describe('Accept recipients at address literals (u@[192.0.2.1], u@[IPv6:2001:db8::1]) and deliver to the literal address with opportunistic TLS, only for mail that needs no more; false refuses them at RCPT with 550 5.1.2.'),
        concurrency: z.number().int().min(1).max(1000).default(20).describe('Delivery attempts in progress at once, over all domains.'),
        perDomainConcurrency: z.number().int().min(1).max(100).default(5).describe('Delivery attempts in progress at once to one recipient domain.'),
        defaultRequirement: z.enum(TRANSPORT_REQUIREMENTS).default('may').describe('Transport requirement of a recipient nothing else decided: none | may | encrypt | verify | dane. REQUIRETLS mail always needs verify.'),
        connectTimeout: duration(100).default(30_000).describe('TCP connect (and TLS set-up) timeout per MX address.'),
        greetingTimeout: duration(100).default(60_000).describe('Wait for the 220 greeting.'),
        commandTimeout: duration(100).default(300_000).describe('Inactivity allowed while waiting for any reply, DATA included (RFC 5321 suggests 5-10 minutes).'),
        connectionIdle: duration(0).default(5_000).describe('How long an idle connection is kept for the next message to the same MX (connection reuse).'),
        maxMessagesPerConnection: z.number().int().min(1).default(100).describe('Messages sent over one connection before it is closed.'),
        perDomainRate: z
          .strictObject({
            messages: z.number().int().min(1).describe('Messages (jobs: one message to one domain) allowed per period, as a burst.'),
            per: duration(1000).default(60_000).describe('The period, e.g. "1m".'),
          })
          .optional()
          .describe('Optional rate limit per recipient domain; mail over it waits in the queue.'),
        deadHostTime: duration(0).default(300_000).describe('An MX address that refused or timed out is skipped for this long.'),
        leaseTime: duration(3000)
          .refine((ms) => ms <= 86_400_000, { message: 'expected at most 1 day' })
          .default(300_000)
          .describe('How long a claimed recipient stays this node\'s without renewal (renewed every third of it while the attempt runs); past it, with several nodes on one PostgreSQL, another node takes the recipient over (docs/scale-out.md). A node that stalls longer than this and then delivers sends that message twice.'),
        retry: z
          .strictObject({
            backoff: z.array(duration(1000)).min(1).default([300_000, 600_000, 1_200_000, 2_400_000, 3_600_000, 7_200_000, 14_400_000]).describe('Wait after the 1st, 2nd, … temporary failure; the last repeats.'),
            maxLifetime: duration(1000).default(432_000_000).describe('Undelivered this long after arrival: the recipient expires and the sender gets a DSN.'),
          })
          .prefault({}),
        delayWarningAfter: duration(0).default(14_400_000).describe('Send a delay DSN once a recipient has waited this long (0: never).'),
        smarthost: z
          .strictObject({
            host: z.string().min(1).describe('Next hop for all mail (name or IP address) instead of MX lookups.'),
            port: z.number().int().min(1).max(65535).default(25).describe('Port of the smarthost.'),
            requirement: z.enum(TRANSPORT_REQUIREMENTS).default('verify').describe('Transport requirement towards the smarthost (at least this, whatever the recipient needs).'),
            user: z.string().min(1).optional().describe('AUTH user at the smarthost.'),
            passwordFile: z.string().min(1).optional().describe('File holding the AUTH password (never put the password itself in the config).'),
          })
          .optional()
          .describe('Relay everything through one next hop.'),
      })
      .prefault({}),
    tls: z
      .strictObject({
        trustedCaFiles: z.array(z.string()).default([]).describe('Extra CA certificates (PEM) trusted for outbound TLS and HTTPS fetches, in addition to the system CAs.'),
        minVersion: z.enum(['TLSv1.2', 'TLSv1.3']).default('TLSv1.2').describe('Lowest TLS version accepted by the listeners.'),
        policies: z
          .record(domainPattern, z.enum(DOMAIN_POLICIES))
          .default({})
          .describe('Per-domain transport requirement, never lower than what the message needs: none | may | encrypt | verify | dane-only. Keys: "example.net" or "*.example.net" (its subdomains).'),
        mtaSts: z
          .strictObject({
            enabled: z.boolean().default(true).describe('Look up and enforce recipient domains\' MTA-STS policies (RFC 8461).'),
            fetchTimeout: duration(1000).default(15_000).describe('Time allowed for fetching one policy over HTTPS.'),
            recheck: duration(0).default(300_000).describe('How long a domain\'s policy lookup is reused before its _mta-sts TXT record is asked again.'),
            httpsPort: z.number().int().min(1).max(65535).default(443).describe('Port of the mta-sts.<domain> policy servers: 443; other values only for lab and test set-ups.'),
          })
          .prefault({})
          .describe('MTA-STS: policies are cached until max_age and never dropped because of a DNS or fetch error.'),
        portalFallback: z
          .strictObject({
            enabled: z.boolean().default(false).describe('Move protected mail that no MX could take at its transport requirement to the secure portal method after `after`.'),
            after: duration(0).default(900_000).describe('How long protected mail keeps retrying its MX hosts before the portal fallback.'),
          })
          .prefault({})
          .describe('Portal fallback for protected mail no recipient MX can take securely; without it such mail stays deferred.'),
        postureMemory: duration(0).default(30 * 86_400_000).describe('How long the best transport security a domain has shown binds protected mail to it (0: off); sealgate probe accept DOMAIN forgets it.'),
        generateDevCerts: z.boolean().default(false).describe('When a listener certificate or key file is missing, create a development CA and a certificate for it. Never use in production.'),
      })
      .prefault({}),
    portal: portalSchema(cidr, hostPort),
    admin: adminSchema(),
    alerts: alertsSchema(),
    keys: z
      .strictObject({
        masterKeyFile: z.string().default('./data/keys/master.key').describe('Master key that wraps every per-message data key; created with mode 0600 on first start when missing.'),
        previousKeyFiles: z.array(z.string()).default([]).describe('Older master keys, still used to read data they wrapped (key rotation).'),
        smimeTrustRoots: z
          .array(z.string().min(1))
          .default([])
          .describe('CA certificates (PEM files) that recipients\' S/MIME certificates must chain to; empty uses the system store (/etc/ssl/certs/ca-certificates.crt or the distribution\'s equivalent).'),
        prefer: z.enum(['smime', 'pgp']).default('smime').describe('End-to-end method for a recipient who has both a valid S/MIME certificate and a valid OpenPGP key.'),
        smimeRsaOaep: z
          .boolean()
          .default(false)
          .describe('Encrypt S/MIME to RSA recipients with RSAES-OAEP instead of PKCS#1 v1.5 (always done when the certificate\'s SMIMECapabilities ask for OAEP); v1.5 is what Outlook, Apple Mail, Thunderbird and openssl smime read.'),
        sign: z
          .boolean()
          .default(false)
          .describe('Sign end-to-end encrypted copies with the organisation key of the same kind (sealgate keys org init / keys org import) before encrypting; without that key the copy goes unsigned and a warning is logged.'),
        discovery: z
          .strictObject({
            wkd: z.boolean().default(true).describe('Look recipients\' OpenPGP keys up by Web Key Directory (advanced method, then direct) through dns.servers and tls.trustedCaFiles.'),
            timeout: duration(100).default(5_000).describe('Time allowed for one address\'s whole lookup; no key found in time counts as no key.'),
            positiveTtl: duration(0).default(86_400_000).describe('How long a lookup that found a key is reused before the network is asked again.'),
            negativeTtl: duration(0).default(600_000).describe('How long a lookup that found no key (not found, error, timeout) is reused (short, so a newly published key is noticed soon).'),
            httpsPort: z.number().int().min(1).max(65535).default(443).describe('Port of the WKD servers: 443; other values only for lab and test set-ups.'),
            dns: z
              .boolean()
              .default(true)
              .describe('Look keys up in DNS: OPENPGPKEY (RFC 7929) and SMIMEA (RFC 8162) records, used only when DNSSEC-authenticated; asked only when dns.dnssecValidating is true. The resolver sees a hash of the local part and the domain.'),
            keyserver: z
              .string()
              .refine((v) => parseKeyserverUrl(v) !== undefined, { message: 'expected an https:// or hkps:// URL with a host and optional port and nothing else, e.g. "https://keys.openpgp.org"' })
              .nullable()
              .default(null)
              .describe('HKPS/VKS key server asked for OpenPGP keys (VKS by-email, then HKP), e.g. "https://keys.openpgp.org"; null (default): none, since the key server learns every address looked up.'),
          })
          .prefault({})
          .describe('Key discovery for recipients without an imported key (sealgate keys lookup); an admin-imported key is never replaced by a discovered one.'),
        revocation: z
          .strictObject({
            enabled: z.boolean().default(true).describe('Ask a recipient S/MIME certificate\'s OCSP responder (then its CRL) whether it is revoked, at import and discovery, through dns.servers; no answer (down, slow, bad signature, stale) leaves it "not checked" and usable.'),
            timeout: duration(100).default(5_000).describe('Time allowed for one certificate\'s whole revocation check (OCSP and CRL fetches).'),
            maxAge: duration(0).default(86_400_000).describe('A stored certificate\'s revocation status is asked again when it is about to be used and its last check is this old.'),
          })
          .prefault({})
          .describe('S/MIME certificate revocation checking (OCSP, RFC 6960; CRL, RFC 5280); a verified "revoked" makes the certificate invalid.'),
      })
      .prefault({}),
  })
  .superRefine((cfg, ctx) => {
    const seen = new Set<string>();
    cfg.smtp.listeners.forEach((l, i) => {
      if (seen.has(l.name)) ctx.addIssue({ code: 'custom', path: ['smtp', 'listeners', i, 'name'], message: `duplicate listener name "${l.name}"; give each listener its own name` });
      seen.add(l.name);
    });
    const names = new Set<string>();
    cfg.connectors.forEach((c, i) => {
      if (c.kind === 'generic' && c.allowIps === undefined) ctx.addIssue({ code: 'custom', path: ['connectors', i, 'allowIps'], message: 'list at least one client address or range (only kind m365 or workspace may omit allowIps: their published ranges apply)' });
      if (c.kind === 'generic' && c.rangesFile !== undefined) ctx.addIssue({ code: 'custom', path: ['connectors', i, 'rangesFile'], message: 'rangesFile is for kind m365 or workspace; list the addresses in allowIps instead' });
      if (names.has(c.name)) ctx.addIssue({ code: 'custom', path: ['connectors', i, 'name'], message: `duplicate connector name "${c.name}"; give each connector its own name` });
      names.add(c.name);
    });
    cfg.smtp.listeners.forEach((l, i) => {
      l.connectors.forEach((n, j) => {
        if (!names.has(n)) ctx.addIssue({ code: 'custom', path: ['smtp', 'listeners', i, 'connectors', j], message: `unknown connector "${n}"; name one of: ${[...names].join(', ')}` });
      });
    });
    const anyAuthListener = cfg.smtp.listeners.some((l) => l.auth);
    cfg.connectors.forEach((c, i) => {
      if (c.users.length > 0 && !anyAuthListener) {
        ctx.addIssue({ code: 'custom', path: ['connectors', i, 'users'], message: 'users can only log in on a listener with auth: true; add auth: true to a listener or remove users' });
      }
    });
    const connectorNames = new Set(cfg.connectors.map((c) => c.name));
    const known = `name one of: ${[...connectorNames].join(', ')}`;
    for (const name of Object.keys(cfg.policy.profiles.connectors)) {
      if (!connectorNames.has(name)) ctx.addIssue({ code: 'custom', path: ['policy', 'profiles', 'connectors', name], message: `unknown connector "${name}"; ${known}` });
    }
    cfg.policy.rules.forEach((r, i) => {
      (r.when.connectors ?? []).forEach((name, j) => {
        if (!connectorNames.has(name)) ctx.addIssue({ code: 'custom', path: ['policy', 'rules', i, 'when', 'connectors', j], message: `unknown connector "${name}"; ${known}` });
      });
    });
  });

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
export type ListenerConfig = Config['smtp']['listeners'][number];
export type ConnectorConfig = Config['connectors'][number];
export type ConnectorLimits = NonNullable<ConnectorConfig['limits']>;
