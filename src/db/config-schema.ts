/**
 * The `store` section of the config (issue 19's contract names `store.kind`,
 * `store.url`, `store.passwordFile`, `store.poolSize`, `store.tls`): which
 * database holds the gateway's rows. SQLite in dataDir is the embedded
 * default; PostgreSQL is for several nodes sharing one database
 * (docs/scale-out.md "Database").
 */
import { z } from 'zod';
import { duration } from '../config/duration.js';

export const storeSchema = z
  .strictObject({
    kind: z
      .enum(['sqlite', 'postgres'])
      .default('sqlite')
      .describe('sqlite: one file in dataDir (sealgate.db), nothing else to run. postgres: a PostgreSQL database that several nodes can share (store.url); run `sealgate db migrate` before its first node; a node on it needs objects.kind: s3 (docs/scale-out.md).'),
    url: z
      .string()
      .regex(/^postgres(ql)?:\/\//, { message: 'expected postgres://USER@HOST:PORT/DATABASE' })
      .optional()
      .describe('kind postgres: postgres://USER@HOST:PORT/DATABASE. Put the password in store.passwordFile or SEALGATE_DB_PASSWORD, not here (one in the URL works, with a warning, and is never printed).'),
    passwordFile: z
      .string()
      .min(1)
      .optional()
      .describe('kind postgres: a file (mode 0600) whose first line is the database password; without it the environment variable SEALGATE_DB_PASSWORD is used, if set.'),
    heartbeat: duration(1000)
      .refine((ms) => ms <= 600_000, { message: 'expected at most 10 minutes' })
      .default(10_000)
      .describe('How often a running node records in the database that it is alive (`sealgate nodes`); a node silent for three of these is listed as stale. Also how often it asks for the lease of the jobs one node runs at a time (alerts, TLS reports, sweeps).'),
    poolSize: z.number().int().min(1).max(200).default(10).describe('kind postgres: most database connections one sealgate process opens.'),
    statementTimeout: duration(100)
      .refine((ms) => ms <= 3_600_000, { message: 'expected at most 1 hour' })
      .default(30_000)
      .describe('kind postgres: the longest one statement of a running node (and of the commands that read what nodes write) may take, waiting for a lock included; past it the statement fails (SMTP answers 451 4.3.0, background work retries). Also bounds the wait for an answer from a database host that stopped answering. Not applied to `sealgate db migrate` and `sealgate migrate`.'),
    tls: z
      .strictObject({
        mode: z
          .enum(['disable', 'require', 'verify-full'])
          .default('verify-full')
          .describe('kind postgres: TLS to the database. verify-full: encrypted, the server certificate must chain to caFile (or the system store) and name the URL\'s host; require: encrypted, the certificate is not checked; disable: cleartext (a database on loopback or a unix socket).'),
        caFile: z.string().min(1).optional().describe('PEM CA certificates the database server\'s certificate must chain to (verify-full); default: the system store.'),
      })
      .prefault({}),
  })
  .prefault({})
  .superRefine((store, ctx) => {
    if (store.kind === 'postgres' && store.url === undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'kind postgres needs store.url: postgres://USER@HOST:PORT/DATABASE' });
    }
    if (store.kind === 'sqlite' && store.url !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['url'], message: 'store.url is read only with kind postgres; set store.kind: postgres or remove store.url' });
    }
  })
  .describe('The database (docs/scale-out.md "Database"): SQLite in dataDir, or PostgreSQL shared by several nodes.');

export type StoreConfig = z.output<typeof storeSchema>;
