/**
 * A letter to its reader about the reader's own health: the To header names
 * the person, the text greets them by first name, then speaks of "your"
 * health or care. Real messages through the MIME walk, as `policy test`
 * reads them.
 */
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { explainVerdict } from '../../src/inspect/explain.js';
import { extractMessage } from '../../src/inspect/extract.js';
import { readerAnchors } from '../../src/inspect/detect/reader.js';
import { inspectExtracted } from '../../src/inspect/verdict.js';

function message(to: string, subject: string, body: string): Buffer {
  return Buffer.from(`From: Allergy Desk <desk@clinic.example>\r\nTo: ${to}\r\nSubject: ${subject}\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n${body.replace(/\n/g, '\r\n')}\r\n`);
}

async function judged(to: string, subject: string, body: string) {
  const extracted = await extractMessage(Readable.from([message(to, subject, body)]));
  return { extracted, verdict: inspectExtracted(extracted) };
}

describe('a letter to the reader named in the To header', () => {
  it.each<[string, string, string, string, boolean]>([
    ['first name, then their own care', 'Priya Raman <priya.raman@inbox.example>', 'allergy shot tues', 'Hi Priya - confirming your allergy shot Tues 3/11 at 4:10. Bring your EpiPen.\n\nJess - Allergy desk', true],
    ['results by first name', 'Jordan Whitaker <jwhitaker@mailbox.example>', 'Your results', 'Hi Jordan,\n\nYour test results from April 3 are back: HIV-1/2 Ag/Ab non-reactive, chlamydia not detected.\n\nDr. Iris Vandermolen', true],
    ['"Last, First" in the header, Spanish greeting', '"Soto, María" <msoto@inbox.example>', 'Recordatorio', 'Hola María:\n\nLe recordamos su cita de colonoscopia el miércoles.', true],
    ['the first name alone in the header says no more', 'Priya <priya@inbox.example>', 'allergy shot tues', 'Hi Priya - confirming your allergy shot Tues 3/11 at 4:10.', false],
    ['another first name greeted', 'Priya Raman <priya.raman@inbox.example>', 'shots', 'Hi Tom - confirming your allergy shot Tues 3/11 at 4:10.', false],
    ['nothing about the reader\'s health', 'Priya Raman <priya.raman@inbox.example>', 'umbrella', 'Hi Priya,\n\nYou left your umbrella at the diabetes fair. It is at the front desk.', false],
    ['a colleague\'s clinic, not their health', 'Tom Price <tprice@clinic.example>', 'cover', 'Hi Tom, can you cover your diabetes clinic on Friday?', false],
    ['a caregiver told of their father\'s care', 'Elaine Sorensen <elaine.sorensen@homemail.example>', 'RE: Dad', 'Hi Elaine,\n\nThank you for the update on your dad. Dr. Brandt agrees to increase his donepezil from 5 mg to 10 mg at bedtime.', true],
    ['texting\'s "ur" for "your"', 'Maria Esperanza Lopez <mariaelopez@inbox.example>', 'u/s thurs', 'hi maria - ur 20 wk anatomy ultrasound is thurs 5/15 @ 9:15. bring ur glucose log too.\n-Tasha, OB front desk', true],
    ['a quoted title\'s "Your" is not the reader\'s', 'Derek Sommers <dsommers@vendor.example>', 'Q2 results', 'Hi Derek,\n\nThe "Your lab results are ready" template got 6 of the 9 clicks in the phishing test.', false],
    ['"UR" in capitals is utilization review, not "your"', 'Maria Lopez <mlopez@payer.example>', 'UR', 'Hi Maria - UR anatomy ultrasound criteria for 2025 are attached for the committee.', false],
    ['a caregiver, nothing of their family member\'s health', 'Elaine Sorensen <elaine.sorensen@homemail.example>', 'RE: Dad', 'Hi Elaine,\n\nThank you for bringing your dad to the open house. His photos of the garden are lovely.', false],
    ['a caregiver told of their mother\'s day, her health far below the greeting', 'Linh Tran <linh.tran@homemail.example>', 'your mom today', `Hi Linh,\n\nJust a heads up about your mom today, nothing urgent.\n\n${'She enjoyed the music hour and sat with her friends by the window for most of the morning. '.repeat(6)}\n\nWe found her blood pressure pills wrapped in her napkin after lunch.`, true],
  ])('%s', async (_name, to, subject, body, phi) => {
    const { verdict } = await judged(to, subject, body);
    expect(verdict.phi).toBe(phi);
    if (phi) expect(verdict.phiBasis?.identifier).toBe('addressed-reader');
  });

  it('keeps the To header\'s display names, and the explanation names the reader as the individual', async () => {
    const { extracted, verdict } = await judged('Priya Raman <priya.raman@inbox.example>, desk@clinic.example', 'allergy shot tues', 'Hi Priya - confirming your allergy shot Tues 3/11 at 4:10.');
    expect(extracted.readerNames).toEqual(['Priya Raman']);
    const explained = explainVerdict(extracted.texts, verdict, undefined, extracted.readerNames);
    expect(explained.individuals.map((i) => i.kind)).toContain('addressed-reader');
    expect(explained.why[0]).toContain('greeted by name');
  });

  it('reads a greeting only near the start of its part of the message', () => {
    const late = `${'Filler line about parking.\n'.repeat(40)}Hi Priya - confirming your allergy shot.`;
    expect(readerAnchors(late, ['Priya Raman'])).toEqual([]);
    expect(readerAnchors('Hi Priya - confirming your allergy shot.', ['Priya Raman'])).toHaveLength(1);
  });
});
