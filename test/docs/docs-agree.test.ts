/**
 * The documentation agrees with the code: every docs/*.md is reachable from
 * the README, and docs/audit.md's table names every audit event type with
 * each field the event stores (src/audit/events.ts AUDIT_EVENT_FIELDS).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUDIT_EVENT_FIELDS } from '../../src/audit/events.js';

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

describe('README links every docs file', () => {
  const docs = readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).sort();
  it.each(docs)('docs/%s', (file) => {
    expect(readme.includes(`](docs/${file}`), `README.md has no link to docs/${file}`).toBe(true);
  });
});

describe('docs/audit.md documents every audit event and its fields', () => {
  const rows = readFileSync(join(root, 'docs', 'audit.md'), 'utf8').split('\n').filter((l) => l.startsWith('| `'));
  /** The table row whose first cell names the type (a row may name several: `a` / `b`). */
  const rowOf = (type: string): string | undefined => rows.find((l) => (l.split(' | ')[0] ?? '').includes(`\`${type}\``));
  it.each(Object.keys(AUDIT_EVENT_FIELDS))('%s', (type) => {
    const row = rowOf(type);
    expect(row, `no row for ${type} in docs/audit.md`).toBeDefined();
    // "as `other:type`" borrows that row's fields
    const data = [row, rowOf(/ as `([a-z_]+:[a-z_]+)`/.exec(row ?? '')?.[1] ?? '')].map((r) => r?.slice(r.indexOf(' | ', 2)) ?? '').join(' ');
    const fields = Object.keys(AUDIT_EVENT_FIELDS[type as keyof typeof AUDIT_EVENT_FIELDS]);
    const missing = fields.filter((f) => !data.includes(`\`${f}\``));
    expect(missing, `docs/audit.md's row for ${type} does not name these fields`).toEqual([]);
  });
});
