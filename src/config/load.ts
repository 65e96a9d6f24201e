/**
 * Reading and validating the configuration. An error names the key path, the
 * bad value and the fix, so `sealgate config check` and a refused SIGHUP
 * reload tell the admin exactly what to change.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { parseDocument } from 'yaml';
import type { z } from 'zod';
import { SealgateError } from '../errors.js';
import { layerConfig } from './layer.js';
import { configSchema, type Config, type ConfigInput } from './schema.js';

export const DEFAULT_CONFIG_PATH = 'config/sealgate.yaml';

export interface LoadedConfig {
  readonly config: Config;
  /** 'file' when read from `path`, 'embedded' when no file existed. */
  readonly source: 'file' | 'embedded';
  readonly path: string | undefined;
  /**
   * Lowercase hex SHA-256 of the file's bytes as read (what `sha256sum FILE`
   * prints), or of the embedded default's JSON: recorded in the audit log at
   * start and reload, so an auditor can tell which configuration was in force.
   */
  readonly sha256: string;
}

/**
 * The embedded default: one STARTTLS listener on 127.0.0.1:2525 for loopback
 * clients, the secure portal on https://localhost:8443, self-generated
 * development certificates, data in ./data. It lets a new user try the
 * gateway on a fresh machine without writing a config.
 */
export function embeddedDefaultConfig(): ConfigInput {
  // the same senders as config/sealgate.example.yaml (a test keeps them equal), so the README's first swaks line works with either
  const senderDomains = [...TRY_OUT_SENDER_DOMAINS];
  return {
    dataDir: './data',
    smtp: {
      listeners: [
        {
          name: 'relay',
          host: '127.0.0.1',
          port: 2525,
          tls: 'starttls',
          certFile: './data/certs/server.crt',
          keyFile: './data/certs/server.key',
        },
      ],
    },
    connectors: [
      {
        name: 'loopback',
        kind: 'generic',
        allowIps: ['127.0.0.0/8', '::1/128'],
        senderDomains,
        requireTls: true,
      },
    ],
    tls: { generateDevCerts: true },
    keys: { masterKeyFile: './data/keys/master.key' },
    // the secure portal on loopback with the development certificate, to try the whole flow on one machine
    portal: {
      enabled: true,
      listen: { host: '127.0.0.1', port: 8443 },
      publicUrl: 'https://localhost:8443',
      certFile: './data/certs/server.crt',
      keyFile: './data/certs/server.key',
    },
  };
}

/** Sender domains the loopback connector of the embedded default and of the example config admits. */
export const TRY_OUT_SENDER_DOMAINS: readonly string[] = ['localhost', 'example.com', 'example.org'];

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * What a config file is layered over. A file that keeps the built-in listener
 * gets the whole embedded default under its keys (`delivery: {enabled: false}`
 * alone is the embedded default without delivery). A file with its own
 * `smtp.listeners` is a deployment: the embedded default's try-it-out parts,
 * development certificates and the loopback portal, are left out, so a
 * missing certificate fails the start instead of being replaced by a
 * development one, and the portal runs only when the file enables it.
 */
export function fileDefaults(file: unknown): ConfigInput {
  const embedded = embeddedDefaultConfig();
  if (!(isPlainObject(file) && isPlainObject(file.smtp) && file.smtp.listeners !== undefined)) return embedded;
  const { portal: _portal, tls: _tls, ...deployment } = embedded;
  return deployment;
}

function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) {
    if (typeof p === 'number') out += `[${p}]`;
    else out += out ? `.${String(p)}` : String(p);
  }
  return out || '(top level)';
}

function valueAt(root: unknown, path: readonly PropertyKey[]): unknown {
  let cur: unknown = root;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

function showValue(v: unknown): string {
  if (v === undefined) return 'nothing';
  const text = JSON.stringify(v);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/** One line per problem: "smtp.listeners[0].port: got "x": expected number". */
export function describeIssues(raw: unknown, issues: readonly z.core.$ZodIssue[]): string[] {
  return issues.map((issue) => {
    if (issue.code === 'unrecognized_keys') {
      const where = formatPath(issue.path);
      return `${where}: unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => `"${k}"`).join(', ')}: remove ${issue.keys.length > 1 ? 'them' : 'it'} or check the spelling against config/sealgate.example.yaml`;
    }
    const where = formatPath(issue.path);
    const got = showValue(valueAt(raw, issue.path));
    let fix = issue.message;
    if (issue.code === 'invalid_type') fix = `expected ${issue.expected}`;
    if (issue.code === 'invalid_value' && 'values' in issue) fix = `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    return `${where}: got ${got}: ${fix}`;
  });
}

export function validateConfig(raw: unknown, origin: string): Config {
  const result = configSchema.safeParse(raw ?? {});
  if (!result.success) {
    const lines = describeIssues(raw, result.error.issues);
    throw new SealgateError('SG_CONFIG_INVALID', {
      message: `${origin}: ${lines.join('; ')}`,
      detail: { problems: lines },
    });
  }
  return result.data;
}

/** A config file's text layered over the embedded default, then validated. */
export function parseConfigText(text: string, origin: string): Config {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    const first = doc.errors[0];
    const where = first?.linePos?.[0] ? ` line ${first.linePos[0].line}, column ${first.linePos[0].col}` : '';
    throw new SealgateError('SG_CONFIG_INVALID', {
      message: `${origin}:${where}: YAML syntax error: ${first?.code ?? 'unknown'}; fix the YAML at that position`,
    });
  }
  // a file holds only what it changes; built-in defaults < file (README, "How it runs")
  const file: unknown = doc.toJS() ?? {};
  return validateConfig(layerConfig(fileDefaults(file), file), origin);
}

/**
 * Loads `explicitPath` (which must exist), or the default path when present,
 * or else the embedded default.
 */
export function loadConfig(explicitPath: string | undefined): LoadedConfig {
  const path = explicitPath ?? DEFAULT_CONFIG_PATH;
  if (!existsSync(path)) {
    if (explicitPath !== undefined) {
      throw new SealgateError('SG_CONFIG_NOT_FOUND', {
        message: `config file ${explicitPath} not found: check the -c path, or run "sealgate init DIR" to create one`,
      });
    }
    const embedded = embeddedDefaultConfig();
    return { config: validateConfig(embedded, 'embedded default'), source: 'embedded', path: undefined, sha256: createHash('sha256').update(JSON.stringify(embedded)).digest('hex') };
  }
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (err) {
    throw new SealgateError('SG_CONFIG_INVALID', { message: `${path}: cannot read: ${(err as NodeJS.ErrnoException).code ?? 'error'}`, cause: err });
  }
  return { config: parseConfigText(bytes.toString('utf8'), path), source: 'file', path, sha256: createHash('sha256').update(bytes).digest('hex') };
}

const SECRET_KEY = /(password|secret|token|passphrase)$/i;
/** The password of a URL with credentials (store.url: postgres://user:password@host/db). */
const URL_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/@:\s]*:)[^@/\s]*@/i;

/** A copy with secret values replaced, for `sealgate config check`. */
export function redactConfig(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(URL_PASSWORD, '$1[redacted]@');
  if (Array.isArray(value)) return value.map(redactConfig);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, SECRET_KEY.test(k) && v !== undefined ? '[redacted]' : redactConfig(v)]),
    );
  }
  return value;
}
