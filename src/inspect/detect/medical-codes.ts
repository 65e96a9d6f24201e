/**
 * Medical code sets: ICD-10-CM diagnoses, CPT and HCPCS procedures, NDC drug
 * codes. Their shapes collide with product and order codes, so each needs a
 * supporting keyword nearby ("structure plus supporting keywords").
 */
import { CPT_STARTS, ICD10_STARTS, NDC_STARTS } from './code-starts.js';
import { sharedHealthTermSpans } from './health-terms.js';
import { patternDetector, type PatternSpec } from './pattern-detector.js';
import { cachedScan } from './scan-cache.js';
import { CLOSE_BRACKET, CLOSE_PAREN, COLON, FULL_STOP, HYPHEN, isSpaceCode, NEWLINE, OPEN_BRACKET, OPEN_PAREN, PIPE, SEMICOLON, SPACE, TAB } from './char-codes.js';
import { digitRuns, isLetter, type DigitRuns } from './digit-runs.js';
import { firstStartingFrom, lineEndWithin, lineStartWithin, type Span } from './spans.js';
import type { Detector, Finding } from './types.js';

/** ICD-10-CM: letter (not U), digit, digit or A/B, then optionally a dot and 1-4 characters. */
export const icd10Spec: PatternSpec = {
  id: 'icd10-cm',
  category: 'ICD10',
  pattern: /\b[A-TV-Z]\d[0-9AB](?:\.[0-9A-TV-Z]{1,4})?\b/g,
  // not "condition" alone: "item condition: new" is how catalogs talk
  // also in German, Spanish and French letters (Diagnose, diagnóstico, diagnostic, CIE-10, CIM-10, ICD-10-GM)
  // and the headings of a note's diagnoses ("Impression:", "PMH:", "Reason for referral:", "Chief complaint:")
  keywords: /\b(icd-?10(-cm|-gm)?|icd|cie-?10|cim-?10|diagnos[ie]s|diagnosen?|diagnóstico|diagnostico|diagnostic|dx|diag\.?|medical\s+condition|assessment|problem\s+list|impression|pmh|past\s+medical\s+history|reason\s+for\s+(?:visit|referral|consult(?:ation)?)|chief\s+complaint)\b/i,
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
  keywords: /\b(cpt|hcpcs|procedure\s+codes?|billing\s+codes?|proc\.?\s*code|requested\s+(?:service|procedure)|procedure\s*:|service\s+code|charge\s+code|superbill|modifiers?)(?![a-z])/i,
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

/** A code a search found: where it starts, its length, and where the match holding it ends (the health term must follow within 40 characters of there). */
export interface CodeMatch {
  readonly index: number;
  readonly length: number;
  readonly end: number;
}

/** Lists, in order, the codes one search finds, from the text's digit runs. */
type CodeSearch = (text: string, runs: DigitRuns) => CodeMatch[];

function isBlank(c: number): boolean {
  return c === SPACE || c === TAB;
}

/** [A-TV-Z]: an ICD-10 code's letter. */
function isIcdLetter(c: number): boolean {
  return c >= 65 && c <= 90 && c !== 85;
}

/** [A-Za-z0-9] */
function isAsciiAlnum(c: number): boolean {
  return isLetter(c) || (c >= 48 && c <= 57);
}

/**
 * Whether `(?:^|[\t|;\n])[ \t]*` (a search going on from `from`) can end
 * right before `code`: the code stands after the spaces and tabs at the
 * text's start, or a separator at or after `from` comes before it with only
 * spaces and tabs between (a tab among those spaces is a separator too).
 */
function cellStartBefore(text: string, code: number, from: number): boolean {
  let blanks = code;
  while (blanks > 0 && isBlank(text.charCodeAt(blanks - 1))) blanks--;
  if (blanks === 0) return true;
  const before = text.charCodeAt(blanks - 1);
  if (blanks - 1 >= from && (before === NEWLINE || before === PIPE || before === SEMICOLON)) return true;
  for (let i = Math.max(blanks, from); i < code; i++) if (text.charCodeAt(i) === TAB) return true;
  return false;
}

/**
 * What the global search of `(?:^|[\t|;\n])[ \t]*(\d{4}[0-9FT]|[A-V]\d{4})[ \t]+(?=\S)`
 * finds: a procedure code at a cell's start, spaces or tabs and something
 * after it. The code is five digits (a run of five), four and F or T (a run
 * of four) or a letter A-V and four digits (a letter before a run of four);
 * its match ends where the spaces after it do. A search goes on where its
 * last match ended, so a tab that match swallowed starts no cell.
 */
export const procedureCodesAtCells: CodeSearch = (text, runs) => {
  const out: CodeMatch[] = [];
  let from = 0;
  // every run looked at in place: a selection of runs by length would be an array as long as the text's numbers
  for (let i = 0; i < runs.count; i++) {
    const s = runs.start[i] as number;
    const length = (runs.end[i] as number) - s;
    if (length !== 4 && length !== 5) continue;
    let code = s;
    let codeEnd = s + 5;
    if (length === 4) {
      const letter = text.charCodeAt(s - 1);
      const after = text.charCodeAt(s + 4);
      if (letter >= 65 && letter <= 86) {
        code = s - 1;
        codeEnd = s + 4;
      } else if (after !== 70 && after !== 84) continue;
    }
    if (code < from) continue;
    let end = codeEnd;
    while (isBlank(text.charCodeAt(end))) end++;
    if (end === codeEnd || end >= text.length || isSpaceCode(text.charCodeAt(end))) continue;
    if (!cellStartBefore(text, code, from)) continue;
    out.push({ index: code, length: codeEnd - code, end });
    from = end;
  }
  return out;
};

/** Where an ICD-10 category (`[A-TV-Z]\d[0-9AB]`) ends whose digit run is run `i` (one or two digits), or -1. */
function icdCategoryEnd(text: string, runs: DigitRuns, i: number): number {
  const s = runs.start[i] as number;
  const length = (runs.end[i] as number) - s;
  if (length > 2 || !isIcdLetter(text.charCodeAt(s - 1))) return -1;
  if (length === 2) return s + 2;
  const third = text.charCodeAt(s + 1);
  return third === 65 || third === 66 ? s + 2 : -1;
}

/**
 * What the global search of `(?:^|[\t|;\n])[ \t]*([A-TV-Z]\d[0-9AB])(?![A-Za-z0-9.])`
 * finds: an undotted ICD-10 code at a cell's start (its letter before a run
 * of one digit and A or B, or of two), no letter, digit or dot after it.
 */
export const diagnosisCodesAtCells: CodeSearch = (text, runs) => {
  const out: CodeMatch[] = [];
  let from = 0;
  for (let i = 0; i < runs.count; i++) {
    const end = icdCategoryEnd(text, runs, i);
    const code = end - 3;
    if (end < 0 || code < from) continue;
    const after = text.charCodeAt(end);
    if (isAsciiAlnum(after) || after === FULL_STOP || !cellStartBefore(text, code, from)) continue;
    out.push({ index: code, length: 3, end });
    from = end;
  }
  return out;
};

/** [0-9A-TV-Z]: a character of an ICD-10 code's part after the dot. */
function isIcdDetail(c: number): boolean {
  return (c >= 48 && c <= 57) || isIcdLetter(c);
}

/**
 * What the global search of `(?<![A-Za-z0-9.])([A-TV-Z]\d[0-9AB]\.[0-9A-TV-Z]{1,4})(?![A-Za-z0-9])`
 * finds: a dotted ICD-10 code anywhere (its category as above, then a dot,
 * one to four details and no letter or digit). Such matches cannot overlap:
 * inside one, every character is a letter, a digit or a dot.
 */
export const dottedDiagnosisCodes: CodeSearch = (text, runs) => {
  const out: CodeMatch[] = [];
  for (let i = 0; i < runs.count; i++) {
    const category = icdCategoryEnd(text, runs, i);
    if (category < 0 || text.charCodeAt(category) !== FULL_STOP) continue;
    const code = category - 3;
    const before = text.charCodeAt(code - 1);
    if (isAsciiAlnum(before) || before === FULL_STOP) continue;
    let end = category + 1;
    while (end < category + 5 && isIcdDetail(text.charCodeAt(end))) end++;
    if (end === category + 1 || isAsciiAlnum(text.charCodeAt(end))) continue;
    out.push({ index: code, length: end - code, end });
  }
  return out;
};

/** A code written in brackets right after what it names: "(" or "[" before it, ")" or "]" after it. */
function bracketed(text: string, index: number, end: number): boolean {
  const before = text.charCodeAt(index - 1);
  const after = text.charCodeAt(end);
  return (before === OPEN_PAREN && after === CLOSE_PAREN) || (before === OPEN_BRACKET && after === CLOSE_BRACKET);
}

/**
 * The procedure code digit run `i` can be: five digits, four digits and F or
 * T (CPT category II / III), or an HCPCS letter A–V and four digits; where it
 * starts and ends, or undefined.
 */
function procedureCodeAt(text: string, runs: DigitRuns, i: number): { readonly code: number; readonly end: number } | undefined {
  const s = runs.start[i] as number;
  const length = (runs.end[i] as number) - s;
  if (length === 5) return { code: s, end: s + 5 };
  if (length !== 4) return undefined;
  const letter = text.charCodeAt(s - 1);
  if (letter >= 65 && letter <= 86) return { code: s - 1, end: s + 4 };
  const after = text.charCodeAt(s + 4);
  return after === 70 || after === 84 ? { code: s, end: s + 5 } : undefined;
}

/** A five-digit (or four and F/T) procedure code, or an HCPCS letter and four digits, in brackets: "lipid panel (80061)", "[G0439]". */
export const bracketedProcedureCodes: CodeSearch = (text, runs) => {
  const out: CodeMatch[] = [];
  for (let i = 0; i < runs.count; i++) {
    const at = procedureCodeAt(text, runs, i);
    if (at && bracketed(text, at.code, at.end)) out.push({ index: at.code, length: at.end - at.code, end: at.end });
  }
  return out;
};

/**
 * A procedure code starting a labelled value ("Item: E0114 crutches",
 * "Service: 97110 therapeutic exercise"): a colon, spaces or tabs, the code
 * and a space or tab after it (the health term must follow, as at a cell's start).
 */
export const procedureCodesAfterLabel: CodeSearch = (text, runs) => {
  const out: CodeMatch[] = [];
  for (let i = 0; i < runs.count; i++) {
    const at = procedureCodeAt(text, runs, i);
    if (!at) continue;
    const { code, end: codeEnd } = at;
    let blanks = code;
    while (blanks > code - 4 && isBlank(text.charCodeAt(blanks - 1))) blanks--;
    if (blanks === code || text.charCodeAt(blanks - 1) !== COLON) continue;
    let end = codeEnd;
    while (isBlank(text.charCodeAt(end))) end++;
    if (end === codeEnd || end >= text.length || isSpaceCode(text.charCodeAt(end))) continue;
    out.push({ index: code, length: codeEnd - code, end });
  }
  return out;
};

/** An undotted ICD-10 category in brackets: "essential hypertension (I10)". */
export const bracketedDiagnosisCodes: CodeSearch = (text, runs) => {
  const out: CodeMatch[] = [];
  for (let i = 0; i < runs.count; i++) {
    const end = icdCategoryEnd(text, runs, i);
    if (end >= 0 && bracketed(text, end - 3, end)) out.push({ index: end - 3, length: 3, end });
  }
  return out;
};

/** The CPT and HCPCS modifiers a claim line most often writes after its code ("99214-25", "73721-RT", "97110-GP"). */
const MODIFIERS: ReadonlySet<string> = new Set([
  '22', '24', '25', '26', '27', '50', '51', '52', '53', '57', '58', '59', '62', '76', '77', '78', '79', '80', '82', '91', '95',
  'TC', 'GT', 'GQ', 'GP', 'GO', 'GN', 'LT', 'RT', 'XE', 'XP', 'XS', 'XU', 'QW', 'KX', 'GA', 'GY', 'GZ', 'AI', 'JW', 'JZ', 'FS', 'CR',
]);

/**
 * A procedure code with a modifier joined by a hyphen ("99214-25", "G0439-GT"):
 * the way claim lines and superbills write a billed service. Nothing else
 * is written so (a ZIP+4 has four digits after its hyphen, an order number
 * no modifier).
 */
export const procedureCodesWithModifier: CodeSearch = (text, runs) => {
  const out: CodeMatch[] = [];
  for (let i = 0; i < runs.count; i++) {
    const s = runs.start[i] as number;
    const length = (runs.end[i] as number) - s;
    let code = s;
    let end = s + length;
    if (length === 4) {
      const letter = text.charCodeAt(s - 1);
      if (letter >= 65 && letter <= 86) code = s - 1;
      else if (text.charCodeAt(s + 4) === 70 || text.charCodeAt(s + 4) === 84) end = s + 5;
      else continue;
    } else if (length !== 5) continue;
    const before = text.charCodeAt(code - 1);
    if (isAsciiAlnum(before) || before === HYPHEN || text.charCodeAt(end) !== HYPHEN || isAsciiAlnum(text.charCodeAt(end + 3)) || text.charCodeAt(end + 3) === HYPHEN) continue;
    if (MODIFIERS.has(text.slice(end + 1, end + 3))) out.push({ index: code, length: end - code, end });
  }
  return out;
};

/** How far before a code the term naming it may end ("type 2 diabetes mellitus without complications (E11.9)"). */
const TERM_BEFORE_REACH = 40;

/**
 * A health term ending before `index` on its line, within 40 characters,
 * with no capitalised word between (a term inside an organisation's name,
 * "Cancer Center (60614)", is followed by one). Terms may overlap: the few
 * starting last before the code are looked at.
 */
function termBefore(text: string, terms: readonly Span[], index: number): boolean {
  // the line's start looked for within the reach only
  const floor = lineStartWithin(text, index, TERM_BEFORE_REACH);
  for (let k = firstStartingFrom(terms, index) - 1, seen = 0; k >= 0 && seen < 4; k--, seen++) {
    const t = terms[k] as Span;
    const end = t.index + t.length;
    if (end > index || end < floor) continue;
    if (!CAPITALISED_WORD.test(text.slice(end, index))) return true;
  }
  return false;
}

const CAPITALISED_WORD = /(?:^|[^\p{L}])\p{Lu}\p{Ll}/u;

/**
 * A code followed on its line, within 40 characters, by a health term (the
 * `after` searches), or written after one (`before`: "wheezing (J45.909)",
 * "type 2 diabetes – E11.9"): the way price lists, problem lists, claim lines
 * and orders name a code by what it is instead of by its code set's keyword.
 * The health terms are looked up only once a code is there.
 */
function codesNamedOnTheirLine(text: string, after: readonly CodeSearch[], before: readonly CodeSearch[] = [], alone: readonly CodeSearch[] = []): { index: number; length: number }[] {
  let terms: readonly Span[] | undefined;
  const out: { index: number; length: number }[] = [];
  const runs = digitRuns(text);
  const found = new Set<number>();
  for (const search of alone) {
    for (const m of search(text, runs)) {
      out.push({ index: m.index, length: m.length });
      found.add(m.index);
    }
  }
  // a search both lists hold (the dotted diagnosis codes) is run once
  const afterMatches = after.map((search) => search(text, runs));
  for (const matches of afterMatches) {
    for (const m of matches) {
      if (found.has(m.index)) continue;
      terms ??= sharedHealthTermSpans(text);
      // the line's end looked for within the 40 characters only (a text of one long line is not read to its end per code)
      const limit = lineEndWithin(text, m.end, 40);
      const next = firstStartingFrom(terms, m.end);
      if (next < terms.length && (terms[next]?.index ?? limit) < limit) {
        out.push({ index: m.index, length: m.length });
        found.add(m.index);
      }
    }
  }
  for (const search of before) {
    const known = after.indexOf(search);
    for (const m of known >= 0 ? (afterMatches[known] as CodeMatch[]) : search(text, runs)) {
      if (found.has(m.index)) continue;
      terms ??= sharedHealthTermSpans(text);
      if (termBefore(text, terms, m.index)) {
        out.push({ index: m.index, length: m.length });
        found.add(m.index);
      }
    }
  }
  return out.sort((x, y) => x.index - y.index);
}

/** A detector of codes named on their line (high confidence: the description is the keyword). */
function namedCodeDetector(id: string, category: string, searches: readonly CodeSearch[], mask: (code: string) => string, before: readonly CodeSearch[] = [], alone: readonly CodeSearch[] = []): Detector {
  const detector: Detector = {
    id,
    category,
    locate: (text) => cachedScan(detector, text, (t) => codesNamedOnTheirLine(t, searches, before, alone)),
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
export const procedureByNameDetector = namedCodeDetector('cpt-by-name', 'CPT_HCPCS', [procedureCodesAtCells, procedureCodesAfterLabel], (c) => `CPT ${'*'.repeat(c.length - 1)}${c.slice(-1)}`, [bracketedProcedureCodes], [procedureCodesWithModifier]);

/**
 * An ICD-10 code named by its condition ("E11.9 type 2 diabetes", "I10 –
 * essential hypertension" at the start of a line or cell): a problem list,
 * a claim line or a referral writes the code with its description, not with
 * an "ICD-10" keyword. A dotted code may stand anywhere; an undotted one
 * ("I10") only at the start of a line or cell, where it is not part of a
 * product or room number.
 */
export const diagnosisByNameDetector = namedCodeDetector('icd10-by-name', 'ICD10', [dottedDiagnosisCodes, diagnosisCodesAtCells], (c) => `ICD-10 ${c.slice(0, 1)}${'*'.repeat(c.length - 1)}`, [dottedDiagnosisCodes, bracketedDiagnosisCodes]);
