/**
 * Medical code sets: ICD-10-CM diagnoses, CPT and HCPCS procedures, NDC drug
 * codes. Their shapes collide with product and order codes, so each needs a
 * supporting keyword nearby ("structure plus supporting keywords").
 */
import { healthTermSpans } from './health-terms.js';
import { patternDetector } from './pattern-detector.js';
import { cachedScan } from './scan-cache.js';
import type { Detector, Finding } from './types.js';

/** ICD-10-CM: letter (not U), digit, digit or A/B, then optionally a dot and 1-4 characters. */
export const icd10Detector = patternDetector({
  id: 'icd10-cm',
  category: 'ICD10',
  pattern: /\b[A-TV-Z]\d[0-9AB](?:\.[0-9A-TV-Z]{1,4})?\b/g,
  // not "condition" alone: "item condition: new" is how catalogs talk
  // also in German, Spanish and French letters (Diagnose, diagnóstico, diagnostic, CIE-10, CIM-10, ICD-10-GM)
  keywords: /\b(icd-?10(-cm|-gm)?|cie-?10|cim-?10|diagnos[ie]s|diagnosen?|diagnóstico|diagnostico|diagnostic|dx|diag\.?|medical\s+condition|assessment|problem\s+list)\b/i,
  keywordRequired: true,
  validate: () => true,
  mask: (v) => `ICD-10 ${v.slice(0, 1)}${'*'.repeat(v.length - 1)}`,
});

/** CPT: five digits, or four digits and F/T (category II/III); HCPCS level II: A-V and four digits. */
export const cptDetector = patternDetector({
  id: 'cpt-hcpcs',
  category: 'CPT_HCPCS',
  pattern: /\b(?:\d{4}[0-9FT]|[A-V]\d{4})\b/g,
  keywords: /\b(cpt|hcpcs|procedure\s+code|billing\s+code|proc\.?\s*code|requested\s+(?:service|procedure)|procedure\s*:|service\s+code)(?![a-z])/i,
  keywordRequired: true,
  window: 60,
  validate: () => true,
  mask: (v) => `CPT ${'*'.repeat(v.length - 1)}${v.slice(-1)}`,
});

/** NDC: 4-4-2, 5-3-2, 5-4-1 (10 digits) or 5-4-2 (11 digits, billing form). */
export const ndcDetector = patternDetector({
  id: 'ndc',
  category: 'NDC',
  pattern: /\b(?:\d{4}-\d{4}-\d{2}|\d{5}-\d{3}-\d{2}|\d{5}-\d{4}-\d{1,2})\b/g,
  keywords: /\b(ndc|national\s+drug\s+code|rx|medication|drug|dispense[d]?|pharmacy)\b/i,
  keywordRequired: true,
  validate: () => true,
  mask: (v) => `NDC ${v.replace(/\d(?=[\d-]{3})/g, '*')}`,
});

/**
 * A procedure code at the start of a line or a table cell, followed by the
 * procedure's name on its line ("80053 comprehensive metabolic panel", "45378\tdiagnostic
 * colonoscopy"): a price list, a schedule or an order names the code by what
 * it is, not by a "CPT" keyword. A ZIP code is never written that way.
 */
const CODE_AT_CELL = /(?:^|[\t|;]|\n)[ \t]*(\d{4}[0-9FT]|[A-V]\d{4})[ \t]+(?=\S)/g;

/** The procedure codes at a line's or a cell's start followed by a procedure's name. */
function proceduresByName(text: string): { index: number; length: number }[] {
  let terms: number[] | undefined;
  const out: { index: number; length: number }[] = [];
  for (const m of text.matchAll(CODE_AT_CELL)) {
    terms ??= healthTermSpans(text).map((t) => t.index);
    const code = m[1] ?? '';
    const at = m.index + m[0].length;
    // the procedure's name within the next 40 characters of the same line
    const lineEnd = text.indexOf('\n', at);
    const limit = Math.min(at + 40, lineEnd < 0 ? text.length : lineEnd);
    if (terms.some((t) => t >= at && t < limit)) out.push({ index: at - m[0].length + m[0].indexOf(code), length: code.length });
  }
  return out;
}

export const procedureByNameDetector: Detector = {
  id: 'cpt-by-name',
  category: 'CPT_HCPCS',
  locate(text: string) {
    return cachedScan(procedureByNameDetector, text, proceduresByName);
  },
  detect(text: string): Finding | undefined {
    const spans = this.locate?.(text) ?? [];
    if (spans.length === 0) return undefined;
    const codes = [...new Set(spans.map((s) => text.slice(s.index, s.index + s.length)))];
    return { detector: 'cpt-by-name', category: 'CPT_HCPCS', count: codes.length, confidence: 'high', evidence: codes.slice(0, 3).map((c) => `CPT ${'*'.repeat(c.length - 1)}${c.slice(-1)}`) };
  },
};

/**
 * An ICD-10 code named by its condition ("E11.9 type 2 diabetes", "I10 –
 * essential hypertension" at the start of a line or cell): a problem list,
 * a claim line or a referral writes the code with its description, not with
 * an "ICD-10" keyword. A dotted code may stand anywhere; an undotted one
 * ("I10") only at the start of a line or cell, where it is not part of a
 * product or room number.
 */
const DOTTED_ICD = /(?<![A-Za-z0-9.])([A-TV-Z]\d[0-9AB]\.[0-9A-TV-Z]{1,4})(?![A-Za-z0-9])/g;
const CELL_ICD = /(?:^|[\t|;]|\n)[ \t]*([A-TV-Z]\d[0-9AB])(?![A-Za-z0-9.])/g;

function codesBeforeCondition(text: string, pattern: RegExp): { index: number; length: number }[] {
  const terms = healthTermSpans(text).map((t) => t.index);
  const out: { index: number; length: number }[] = [];
  for (const m of text.matchAll(pattern)) {
    const code = m[1] ?? '';
    const index = m.index + m[0].length - code.length;
    const at = index + code.length;
    const lineEnd = text.indexOf('\n', at);
    const limit = Math.min(at + 40, lineEnd < 0 ? text.length : lineEnd);
    if (terms.some((t) => t >= at && t < limit)) out.push({ index, length: code.length });
  }
  return out;
}

export const diagnosisByNameDetector: Detector = {
  id: 'icd10-by-name',
  category: 'ICD10',
  locate: (text) => [...codesBeforeCondition(text, DOTTED_ICD), ...codesBeforeCondition(text, CELL_ICD)].sort((a, b) => a.index - b.index),
  detect(text: string): Finding | undefined {
    const spans = this.locate?.(text) ?? [];
    if (spans.length === 0) return undefined;
    const codes = [...new Set(spans.map((s) => text.slice(s.index, s.index + s.length)))];
    return { detector: 'icd10-by-name', category: 'ICD10', count: codes.length, confidence: 'high', evidence: codes.slice(0, 3).map((c) => `ICD-10 ${c.slice(0, 1)}${'*'.repeat(c.length - 1)}`) };
  },
};
