/**
 * Inspection on the calling thread, for a daemon without inspection threads
 * (inspection.threads: 0) and for `policy replay`: extraction within the
 * time limit, then the verdict. The daemon loads this module (and with it the
 * extraction and detection engine) only when it inspects on its own thread.
 */
import type { Readable } from 'node:stream';
import type { CustomIdentifier } from './detect/personal.js';
import { extractedFacts, extractMessage, type Extracted } from './extract.js';
import type { InspectionResult } from './inspect-thread.js';
import { inspectExtracted, inspectionProfile, subjectSensitive, type InspectionProfile } from './verdict.js';

type CustomDetectors = readonly (CustomIdentifier & { identifier?: boolean })[];

/** The profile of a config's custom detectors, built once per list (a reload brings a new list). */
const profiles = new WeakMap<CustomDetectors, InspectionProfile>();
function profileOf(custom: CustomDetectors): InspectionProfile {
  let p = profiles.get(custom);
  if (!p) profiles.set(custom, (p = inspectionProfile(custom)));
  return p;
}

/** Inspection on this thread (no pool): extraction within the time limit, then the verdict. */
export async function inspectHere(open: () => Readable, profile: InspectionProfile, limitMs: number): Promise<InspectionResult> {
  const all = await extractWithin(open, limitMs);
  const verdict = inspectExtracted(all, profile);
  return { extracted: extractedFacts(all), verdict, subjectSensitive: subjectSensitive(all.subject, profile) };
}

/**
 * The extraction, bounded in time: past the limit the walk is abandoned and
 * the message counts as not fully scanned (fail closed: policy treats it as
 * sensitive), with nothing found.
 */
export async function extractWithin(open: () => Readable, limitMs: number): Promise<Extracted> {
  const source = open();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<Extracted>((resolve) => {
    timer = setTimeout(() => {
      source.destroy();
      resolve({ subject: '', visibleRecipients: [], readerNames: [], authorNames: [], personalAuthor: false, texts: [], attachments: [], dicom: false, encrypted: false, notFullyScanned: true, reasons: [`time limit reached (${Math.round(limitMs / 1000)} s)`] });
    }, limitMs);
  });
  const extracting = extractMessage(source);
  extracting.catch(() => undefined); // the loser of the race must not become an unhandled rejection
  try {
    return await Promise.race([extracting, timedOut]);
  } finally {
    clearTimeout(timer);
  }
}

/** inspectHere with the profile of inspection.customDetectors. */
export function inspectHereWith(open: () => Readable, custom: CustomDetectors, limitMs: number): Promise<InspectionResult> {
  return inspectHere(open, profileOf(custom), limitMs);
}
