/**
 * The DLP verdict an archive entry keeps (pure): from the summary inspection
 * stored on the queue row, only named fields — categories with counts and
 * confidence, PHI and the rule that made it PHI, the protection required,
 * the methods and policy rules — never a value or evidence. Mail that was
 * not inspected (portal replies, inspection off) keeps `inspected: false`.
 */
import { canonicalJson } from '../audit/chain.js';

export interface StoredVerdict {
  /** Canonical JSON, as the entry's `verdict` column holds it. */
  readonly json: string;
  /** The DLP categories found (search terms). */
  readonly categories: readonly string[];
}

interface Finding {
  category: string;
  count: number;
  confidence?: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function findingsOf(v: unknown): Finding[] {
  if (!Array.isArray(v)) return [];
  const out: Finding[] = [];
  for (const f of v as unknown[]) {
    if (typeof f !== 'object' || f === null) continue;
    const r = f as Record<string, unknown>;
    const category = str(r.category);
    if (!category) continue;
    const count = typeof r.count === 'number' && Number.isSafeInteger(r.count) ? r.count : 0;
    const confidence = str(r.confidence);
    out.push({ category, count, ...(confidence ? { confidence } : {}) });
  }
  return out;
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? (v as unknown[]).filter((x): x is string => typeof x === 'string') : [];
}

export function archiveVerdict(summaryJson: string | null): StoredVerdict {
  let summary: Record<string, unknown> | undefined;
  try {
    const parsed = summaryJson ? (JSON.parse(summaryJson) as unknown) : undefined;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) summary = parsed as Record<string, unknown>;
  } catch {
    summary = undefined;
  }
  if (!summary) return { json: canonicalJson({ inspected: false }), categories: [] };
  const findings = findingsOf(summary.findings);
  const phiRule = str(summary.phiRule);
  const protection = str(summary.protection);
  const value = {
    inspected: true,
    phi: summary.phi === true,
    ...(phiRule ? { phiRule } : {}),
    notFullyScanned: summary.notFullyScanned === true,
    ...(protection ? { protection } : {}),
    subjectTag: summary.subjectTag === true,
    findings,
    methods: strings(summary.methods),
    rules: strings(summary.rules),
  };
  return { json: canonicalJson(value), categories: [...new Set(findings.map((f) => f.category))] };
}
