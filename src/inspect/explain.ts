/**
 * Why the verdict is what it is, for `sealgate policy test FILE --explain`:
 * per finding, why each match counts (the check it passed, the supporting
 * keyword and its distance); the individuals the text names; and why the
 * message is PHI, only sensitive, or clean. Masked evidence, categories,
 * kinds and health terms only — never a matched value. Pure.
 */
import type { AnchorKind } from './detect/person-mentions.js';
import { signatureZones } from './detect/signature.js';
import { withScanCache } from './detect/scan-cache.js';
import type { Confidence, MatchExplanation } from './detect/types.js';
import { DEFAULT_PROFILE, HEALTH_CATEGORIES, PATIENT_ID_CATEGORIES, PERSONAL_ID_CATEGORIES, WEAK_CATEGORIES, type InspectionProfile, type MessageVerdict, type PhiBasis, detectorText, individuals, messageText } from './verdict.js';

export interface FindingExplanation {
  readonly detector: string;
  readonly category: string;
  readonly count: number;
  readonly confidence: Confidence;
  /** Why the finding has its confidence, in words. */
  readonly because: string;
  readonly matches: readonly MatchExplanation[];
}

export interface IndividualExplanation {
  readonly kind: AnchorKind;
  /** The mention, masked ("M**** A******"). */
  readonly evidence: string;
}

export interface VerdictExplanation {
  readonly verdict: 'phi' | 'sensitive' | 'clean';
  /** Sentences, most important first. */
  readonly why: readonly string[];
  readonly findings: readonly FindingExplanation[];
  readonly individuals: readonly IndividualExplanation[];
}

const KIND_WORDS: Readonly<Record<AnchorKind, string>> = {
  'labelled-name': 'a name with its label ("Patient:", "Name:")',
  'honorific-name': 'a name after an honorific (Mrs., Herr, Sra., Madame …)',
  'named-patient': 'a name in prose with a patient cue ("spoke with …", "… was admitted")',
  'name-with-address': 'a name with a home address',
  'home-address': 'an address the text says is a person\'s home',
  'patient-phone': "a phone number said to be a patient's",
  'patient-contact': "an e-mail address said to be a patient's",
  'addressed-reader': 'the reader, named in the To header and greeted by name',
  'message-author': 'the message\'s author, named in its From header, about their own health ("my …")',
  'signed-author': 'the author of a text about their own health ("my …"), signed with their name',
  'quoted-author': 'the author of a quoted or forwarded message about their own health, named in its From or "wrote:" line',
};

function maskMention(text: string): string {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/[\p{L}\p{N}]+/gu, (w) => `${w[0] ?? ''}${'*'.repeat(Math.max(0, w.length - 1))}`)
    .slice(0, 60);
}

function because(category: string, confidence: Confidence, matches: readonly MatchExplanation[]): string {
  const best = matches.find((m) => m.confidence === confidence) ?? matches[0];
  if (category === 'HEALTH_TERM') return 'health terms (conditions, medications, tests, care) — health information, not an identifier';
  if (category === 'CLINICAL_FORMAT') return confidence === 'high' ? 'a clinical data format that carries an individual' : 'a clinical data format without an individual (an acknowledgement, a master file, terminology): not PHI by itself';
  if (category === 'PHONE') return 'a phone number: it identifies someone only when the text says it is a patient\'s';
  if (category === 'PERSON_NAME') return 'a name with its label';
  if (category === 'EMAIL_LIST') return 'many addresses outside the organisation';
  if (best?.keyword) return `${best.validator ? `passes the ${best.validator}, ` : ''}keyword "${best.keyword.keyword}" ${best.keyword.distance} characters away`;
  if (best?.validator) return confidence === 'low' ? `passes the ${best.validator} but no keyword is near, and the shape alone is common` : `passes the ${best.validator}, no keyword near`;
  return confidence === 'low' ? 'the pattern alone (low confidence: ignored by the verdict)' : 'the pattern with its required keyword';
}

function basisWords(b: PhiBasis): string {
  switch (b.rule) {
    case 'clinical-format':
      return `PHI: ${b.identifier} — clinical data about an individual is PHI by itself`;
    case 'patient-identifier':
      return `PHI: a ${b.identifier} found with its keyword — a number that exists only because someone is a patient or a plan member; the fact of care is health information`;
    case 'identifier-and-health':
      return `PHI: a person's identifier (${b.identifier}) with health information ("${b.health ?? '?'}")${b.distance === undefined ? '' : `, ${b.distance} characters apart`}`;
    case 'individual-and-health':
      return `PHI: ${KIND_WORDS[b.identifier as AnchorKind] ?? b.identifier} with health information ("${b.health ?? '?'}") ${b.distance ?? '?'} characters away`;
  }
}

/** The explanation of `verdict` for the extracted texts it was made from. */
export function explainVerdict(texts: readonly string[], verdict: MessageVerdict, profile: InspectionProfile = DEFAULT_PROFILE, readerNames: readonly string[] = [], authorNames: readonly string[] = [], personalAuthor = false): VerdictExplanation {
  // one scan cache for the whole explanation, as for a verdict: each detector and shared scan reads the text once
  return withScanCache(() => explainText(texts, verdict, profile, readerNames, authorNames, personalAuthor));
}

function explainText(texts: readonly string[], verdict: MessageVerdict, profile: InspectionProfile, readerNames: readonly string[], authorNames: readonly string[], personalAuthor: boolean): VerdictExplanation {
  const text = detectorText(messageText(texts));
  const findings = verdict.findings.map((f): FindingExplanation => {
    const detector = profile.detectors.find((d) => d.id === f.detector);
    const matches = detector?.explain?.(text) ?? [];
    return { detector: f.detector, category: f.category, count: f.count, confidence: f.confidence, because: because(f.category, f.confidence, matches), matches };
  });
  const zones = signatureZones(text);
  const mentioned = individuals(text, zones, readerNames, authorNames, personalAuthor)
    .slice(0, 10)
    .map((a) => ({ kind: a.kind, evidence: a.kind === 'patient-phone' ? 'Phone ***-***-****' : a.kind === 'patient-contact' ? 'E-mail ****@****' : a.kind === 'home-address' ? 'Address ****' : maskMention(text.slice(a.index, a.index + a.length)) }));
  const sensitive = [...new Set(verdict.findings.filter((f) => !WEAK_CATEGORIES.has(f.category) && f.confidence !== 'low' && f.category !== 'CLINICAL_FORMAT').map((f) => f.category))];
  const personal = [...new Set(verdict.findings.filter((f) => PERSONAL_ID_CATEGORIES.has(f.category) && f.confidence === 'high').map((f) => f.category))];
  const why: string[] = [];
  if (verdict.phi && verdict.phiBasis) why.push(basisWords(verdict.phiBasis));
  else if (verdict.phi) why.push('PHI');
  else {
    const health = verdict.findings.some((f) => HEALTH_CATEGORIES.has(f.category));
    const ids = verdict.findings.filter((f) => !WEAK_CATEGORIES.has(f.category) && !HEALTH_CATEGORIES.has(f.category) && f.confidence !== 'low' && !PATIENT_ID_CATEGORIES.has(f.category));
    if (health && mentioned.length === 0 && ids.length === 0) why.push('no PHI: health information, but no individual it is about (names of staff, signatures and organisations do not count)');
    else if (health) why.push('no PHI: health information, but not within 400 characters of an individual named in the text, and no identifier of a person');
    else if (ids.length || mentioned.length) why.push('no PHI: identifiers, but no health information');
    else why.push('no PHI: nothing identifies a person together with health information');
  }
  if (personal.length) why.push(`personal identifiers found with high confidence (${personal.join(', ')}): protected like PHI by default (identifierProtection)`);
  if (!verdict.phi && sensitive.length) why.push(`sensitive: ${sensitive.join(', ')} at medium or high confidence`);
  if (verdict.notFullyScanned) why.push(`not fully scanned (${verdict.scanReasons.join('; ')}): treated as sensitive (fail closed)`);
  const low = verdict.findings.filter((f) => f.confidence === 'low' && !['HEALTH_TERM', 'PHONE'].includes(f.category)).map((f) => f.category);
  if (low.length) why.push(`ignored at low confidence: ${[...new Set(low)].join(', ')}`);
  const level = verdict.phi ? 'phi' : sensitive.length || personal.length || verdict.notFullyScanned ? 'sensitive' : 'clean';
  return { verdict: level, why, findings, individuals: mentioned };
}
