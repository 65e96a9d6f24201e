/**
 * Connector presets: the published sending ranges of Microsoft 365 and Google
 * Workspace, kept as dated data files in config/ranges/ (source and date in
 * the file). A connector with `kind: m365 | workspace` and no `allowIps`
 * takes its ranges from there (or from its own `rangesFile`, which tests use
 * to point at loopback ranges). Parsing and formatting are pure; only
 * `loadPresetRanges` reads a file (the reader is injectable).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse, stringify } from 'yaml';
import { z } from 'zod';
import { SealgateError } from '../errors.js';
import { parseCidr } from '../net/cidr.js';

export type PresetKind = 'm365' | 'workspace';

/** A ranges file holds at most this many entries (Google publishes a few dozen). */
export const MAX_RANGES = 2000;
const MAX_FILE_BYTES = 256 * 1024;

export const rangesFileSchema = z.strictObject({
  provider: z.enum(['m365', 'workspace']),
  source: z.string().min(1).max(500),
  retrieved: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'use the date as YYYY-MM-DD' }),
  ranges: z
    .array(z.string().refine((r) => parseCidr(r) !== undefined, { message: 'not an IP address or CIDR range' }))
    .min(1, { message: 'list at least one range' })
    .max(MAX_RANGES),
});
export type RangesFile = z.infer<typeof rangesFileSchema>;

/** config/ranges/<kind>.yaml next to the package (src/ in tests, dist/ installed). */
export function defaultRangesPath(kind: PresetKind): string {
  return fileURLToPath(new URL(`../../config/ranges/${kind}.yaml`, import.meta.url));
}

export function parseRangesFile(text: string, origin: string): RangesFile {
  let raw: unknown;
  try {
    raw = parse(text);
  } catch {
    throw new SealgateError('SG_CONFIG_INVALID', { message: `${origin}: YAML syntax error; fix the file or restore it from the package` });
  }
  const r = rangesFileSchema.safeParse(raw);
  if (!r.success) {
    const first = r.error.issues[0];
    const where = first ? first.path.join('.') || '(top)' : '(top)';
    throw new SealgateError('SG_CONFIG_INVALID', { message: `${origin}: ${where}: ${first?.message ?? 'invalid'}; fix the file or run "sealgate connectors refresh"` });
  }
  return r.data;
}

/** The file text: a header comment (what it is, how to refresh) and the data. */
export function formatRangesFile(f: RangesFile): string {
  const head = [
    `# ${f.provider === 'm365' ? 'Microsoft 365' : 'Google Workspace'} sending ranges for connectors with kind: ${f.provider} (docs/connectors.md).`,
    '# Shared by every customer of the provider: an address in them never identifies your tenant.',
    f.provider === 'workspace' ? '# Written by `sealgate connectors refresh`; run it again to refresh.' : '# Refresh by comparing with the source and editing ranges and retrieved.',
  ];
  return `${head.join('\n')}\n${stringify(f)}`;
}

export interface PresetConnector {
  readonly name: string;
  readonly kind: 'm365' | 'workspace' | 'generic';
  readonly allowIps?: readonly string[] | undefined;
  readonly rangesFile?: string | undefined;
}

/**
 * The ranges a connector admits: its allowIps when given (an explicit list
 * wins), else its preset's file. Generic connectors always have allowIps.
 */
export function connectorRanges(c: PresetConnector, read: (path: string) => string = (p) => readFileSync(p, 'utf8')): { ranges: readonly string[]; source: 'allowIps' | 'preset' } {
  if (c.allowIps && c.allowIps.length > 0) return { ranges: c.allowIps, source: 'allowIps' };
  if (c.kind === 'generic') return { ranges: [], source: 'allowIps' };
  const path = c.rangesFile ?? defaultRangesPath(c.kind);
  const key = `connectors.${c.name}.${c.rangesFile ? 'rangesFile' : 'kind'}`;
  let text: string;
  try {
    text = read(path);
  } catch (err) {
    throw new SealgateError('SG_CONFIG_INVALID', { message: `${key}: cannot read ranges file ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'}); fix the path or set allowIps`, cause: err });
  }
  if (text.length > MAX_FILE_BYTES) throw new SealgateError('SG_CONFIG_INVALID', { message: `${key}: ranges file ${path} is larger than ${MAX_FILE_BYTES} bytes; is it the right file?` });
  const file = parseRangesFile(text, `${key}: ${path}`);
  if (file.provider !== c.kind) throw new SealgateError('SG_CONFIG_INVALID', { message: `${key}: ranges file ${path} is for provider ${file.provider}, not ${c.kind}; point rangesFile at a ${c.kind} file` });
  return { ranges: file.ranges, source: 'preset' };
}
