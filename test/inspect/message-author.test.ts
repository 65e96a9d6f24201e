import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { authorAnchors } from '../../src/inspect/detect/message-author.js';
import { explainVerdict } from '../../src/inspect/explain.js';
import { extractMessage } from '../../src/inspect/extract.js';
import { inspectExtracted, inspectText } from '../../src/inspect/verdict.js';

const own = 'question about my meds\f\fHi Dr. Ng,\nI ran out of my seizure meds on Friday and had a seizure at work.\nOmar';

describe("the message's author, named in its From header, about their own health", () => {
  it.each<[string, string, readonly string[], boolean]>([
    ['a person writing about their own medicine', own, ['Omar Sheikh'], true],
    ['no display name', own, [], false],
    ["an organisation's display name", own, ['Riverside Health News'], false],
    ["a clinician's display name", own, ['Dr. Omar Sheikh'], false],
    ["staff writing about a patient's care", 'Re: pt update\f\fI started him on metformin last week; my team will call.', ['Jane Castillo'], false],
    ['only the quoted message tells it', 'Re: visit\f\fThanks, see you then.\n\nOn Mon, Mar 3, 2025 at 9:00 AM Ana Ruiz <ana@mail.example> wrote:\n> my migraines are worse', ['Jane Castillo'], false],
    ["a staff member's own surgery is their own health", 'out next week\f\fI will be out for my knee surgery from the 12th; Dana covers.', ['Jane Castillo'], true],
    ["the author's family member's health: the author's name identifies them", 'Re: reminder\f\fMy husband has been throwing up since Tuesday and cannot keep down his water pills.', ['Linda Haverford'], true],
    ["a family member's event is not their health", 'Re: reminder\f\fMy husband will drive me to the heart institute gala on Friday.', ['Linda Haverford'], false],
  ])('%s', (_name, text, authors, found) => {
    expect(authorAnchors(text, authors).length > 0).toBe(found);
  });

  // from a personal mailbox the first person is read widely: a patient or a family member writes there, not staff
  it.each<[string, string, boolean, boolean]>([
    ['a patient without "my": from a personal mailbox', 'Re: visit\f\fThe pills make me throw up every morning and I missed two this week.', true, true],
    ['the same words from the organisation', 'Re: visit\f\fThe pills make me throw up every morning and I missed two this week.', false, false],
    ['a relative told as "he", from a personal mailbox', "Re: reminder\f\fHe's been throwing up since Tuesday and can't keep down his water pills.", true, true],
    ['volunteering is not health, from a personal mailbox either', 'Re: health fair\f\fI can take the BP station from 9 to 12 and bring two monitors.', true, false],
    ['asking about requirements to apply', 'Re: volunteers\f\fDo I need a TB test or shots before I apply?', true, false],
  ])('%s', (_name, text, personal, found) => {
    expect(authorAnchors(text, ['Linda Haverford'], personal).length > 0).toBe(found);
  });

  it('makes the verdict PHI only with the author named', () => {
    expect(inspectText(own, undefined, undefined, undefined, [], ['Omar Sheikh']).phi).toBe(true);
    expect(inspectText(own).phi).toBe(false);
  });

  it("reads the From header's display name from a real message, and the explanation names the author", async () => {
    const raw = 'From: Omar Sheikh <omar.sheikh@mail.example>\r\nTo: Refill Desk <refills@clinic.example>\r\nSubject: out of meds\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nI ran out of my seizure meds on Friday and had a seizure at work.\r\n';
    const extracted = await extractMessage(Readable.from([Buffer.from(raw)]));
    expect(extracted.authorNames).toEqual(['Omar Sheikh']);
    expect(extracted.personalAuthor).toBe(true); // mail.example: a mailbox service's name
    const verdict = inspectExtracted(extracted);
    expect(verdict.phi).toBe(true);
    const explained = explainVerdict(extracted.texts, verdict, undefined, extracted.readerNames, extracted.authorNames);
    expect(explained.individuals.map((i) => i.kind)).toContain('message-author');
  });
});
