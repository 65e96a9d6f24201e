/**
 * Medical code sets: ICD-10-CM diagnoses, CPT and HCPCS procedures, NDC drug
 * codes. Their shapes collide with product and order codes, so each needs a
 * supporting keyword nearby ("structure plus supporting keywords").
 */
import { CPT_STARTS, ICD10_STARTS, NDC_STARTS } from './code-starts.js';
import { healthTermSpans } from './health-terms.js';
import { patternDetector, type PatternSpec } from './pattern-detector.js';
import { cachedScan } from './scan-cache.js';
import { lowerBound } from './spans.js';
import type { Detector, Finding } from './types.js';

/** ICD-10-CM: letter (not U), digit, digit or A/B, then optionally a dot and 1-4 characters. */
export const icd10Spec: PatternSpec = {
  id: 'icd10-cm',
  category: 'ICD10',
  pattern: /\b[A-TV-Z]\d[0-9AB](?:\.[0-9A-TV-Z]{1,4})?\b/g,
  // not "condition" alone: "item condition: new" is how catalogs talk
  // also in German, Spanish and French letters (Diagnose, diagnóstico, diagnostic, CIE-10, CIM-10, ICD-10-GM)
  keywords: /\b(icd-?10(-cm|-gm)?|cie-?10|cim-?10|diagnos[ie]s|diagnosen?|diagnóstico|diagnostico|diagnostic|dx|diag\.?|medical\s+condition|assessment|problem\s+list)\b/i,
  keywordRequired: true,
  validate: () => true,
  starts: ICD10_STARTS,
  mask: (v) => `ICD-10 ${v.slice(0, 1)}${'*'.repeat(v.length - 1)}`,
};
export const icd10Detector = patternDetector(icd10Spec);

/** CPT: five digits, or four digits and F/T (category II/III); HCPCS level II: A-V and four digits. */
export const cptSpec: PatternSpec = {
  id: 'cpt-hcpcs',
  category: 'CPT_HCPCS',
  pattern: /\b(?:\d{4}[0-9FT]|[A-V]\d{4})\b/g,
  keywords: /\b(cpt|hcpcs|procedure\s+code|billing\s+code|proc\.?\s*code|requested\s+(?:service|procedure)|procedure\s*:|service\s+code)(?![a-z])/i,
  keywordRequired: true,
  window: 60,
  validate: () => true,
  starts: CPT_STARTS,
  mask: (v) => `CPT ${'*'.repeat(v.length - 1)}${v.slice(-1)}`,
};
export const cptDetector = patternDetector(cptSpec);

/** NDC: 4-4-2, 5-3-2, 5-4-1 (10 digits) or 5-4-2 (11 digits, billing form). */
export const ndcSpec: PatternSpec = {
  id: 'ndc',
  category: 'NDC',
  pattern: /\b(?:\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1,2})\b/g,
  keywords: /\b(ndc|national\s+drug\s+code|rx|medication|drug|dispense[d]?|pharmacy)\b/i,
  keywordRequired: true,
  validate: () => true,
  starts: NDC_STARTS,
  mask: (v) => `NDC ${v.replace(/\d(?=[\d-]{3})/g, '*')}`,
};
export const ndcDetector = patternDetector(ndcSpec);

/** Where a code stands: the matches of a search, each capturing the code in group 1. */
type CodeSearch = (text: string) => Iterable<RegExpMatchArray>;

/** Every match of a global pattern. */
const everywhere =
  (pattern: RegExp): CodeSearch =>
  (text) =>
    text.matchAll(pattern);

/**
 * A code at the start of the text, a line or a table cell: what
 * `(?:^|[\t|;]|\n)<body>` finds, searched as two patterns. In one pattern the
 * `^` alternative makes the engine try every position; without it, it skips
 * to the separators (about three times faster). The search after a match at
 * the start goes on where that match ended, as the one pattern's would.
 */
export function atCellStart(body: string): CodeSearch {
  const atStart = new RegExp(`^${body}`, 'y');
  const afterSeparator = new RegExp(`[\t|;\n]${body}`, 'g');
  return function* (text) {
    atStart.lastIndex = 0;
    const first = atStart.exec(text);
    if (first) yield first;
    afterSeparator.lastIndex = first ? first.index + first[0].length : 0;
    for (let m = afterSeparator.exec(text); m; m = afterSeparator.exec(text)) yield m;
  };
}

/**
 * A code followed on its line, within 40 characters, by a health term: the
 * way price lists, problem lists, claim lines and orders name a code by what
 * it is instead of by its code set's keyword. `searches` capture the code in
 * group 1; the health terms are looked up only once a code is there.
 */
function codesNamedOnTheirLine(text: string, searches: readonly CodeSearch[]): { index: number; length: number }[] {
  let terms: number[] | undefined;
  const out: { index: number; length: number }[] = [];
  for (const search of searches) {
    for (const m of search(text)) {
      const index = m.index ?? 0;
      terms ??= healthTermSpans(text).map((t) => t.index);
      const code = m[1] ?? '';
      const at = index + m[0].length;
      const lineEnd = text.indexOf('\n', at);
      const limit = Math.min(at + 40, lineEnd < 0 ? text.length : lineEnd);
      const next = lowerBound(terms, at);
      if (next < terms.length && (terms[next] ?? limit) < limit) out.push({ index: index + m[0].indexOf(code), length: code.length });
    }
  }
  return out.sort((x, y) => x.index - y.index);
}

/** A detector of codes named on their line (high confidence: the description is the keyword). */
function namedCodeDetector(id: string, category: string, searches: readonly CodeSearch[], mask: (code: string) => string): Detector {
  const detector: Detector = {
    id,
    category,
    locate: (text) => cachedScan(detector, text, (t) => codesNamedOnTheirLine(t, searches)),
    detect(text: string): Finding | undefined {
      const spans = detector.locate?.(text) ?? [];
      if (spans.length === 0) return undefined;
      const codes = [...new Set(spans.map((sp) => text.slice(sp.index, sp.index + sp.length)))];
      return { detector: id, category, count: codes.length, confidence: 'high', evidence: codes.slice(0, 3).map(mask) };
    },
  };
  return detector;
}

/**
 * A procedure code at the start of a line or a table cell, followed by the
 * procedure's name on its line ("80053 comprehensive metabolic panel", "45378\tdiagnostic
 * colonoscopy"): a price list, a schedule or an order names the code by what
 * it is, not by a "CPT" keyword. A ZIP code is never written that way.
 */
const CODE_AT_CELL = atCellStart(String.raw`[ \t]*(\d{4}[0-9FT]|[A-V]\d{4})[ \t]+(?=\S)`);

export const procedureByNameDetector = namedCodeDetector('cpt-by-name', 'CPT_HCPCS', [CODE_AT_CELL], (c) => `CPT ${'*'.repeat(c.length - 1)}${c.slice(-1)}`);

/**
 * An ICD-10 code named by its condition ("E11.9 type 2 diabetes", "I10 –
 * essential hypertension" at the start of a line or cell): a problem list,
 * a claim line or a referral writes the code with its description, not with
 * an "ICD-10" keyword. A dotted code may stand anywhere; an undotted one
 * ("I10") only at the start of a line or cell, where it is not part of a
 * product or room number.
 */
const DOTTED_ICD = everywhere(/(?<![A-Za-z0-9.])([A-TV-Z]\d[0-9AB]\.[0-9A-TV-Z]{1,4})(?![A-Za-z0-9])/g);
const CELL_ICD = atCellStart(String.raw`[ \t]*([A-TV-Z]\d[0-9AB])(?![A-Za-z0-9.])`);

export const diagnosisByNameDetector = namedCodeDetector('icd10-by-name', 'ICD10', [DOTTED_ICD, CELL_ICD], (c) => `ICD-10 ${c.slice(0, 1)}${'*'.repeat(c.length - 1)}`);
