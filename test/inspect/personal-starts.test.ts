import { describe, expect, it } from 'vitest';
import { digitRuns } from '../../src/inspect/detect/digit-runs.js';
import { DATE_PATTERN, DATE_STARTS } from '../../src/inspect/detect/personal.js';

/*
 * The date-of-birth detector tries DATE_PATTERN only where DATE_STARTS says
 * a date can start. These compare what that finds with the pattern's own
 * search of the whole text, on the edges of the shortcut (the text's start
 * and end, month names in any case, the longest Spanish form, letters beyond
 * ASCII, CR, runs of digits too long to be a day or a year) and on generated
 * texts.
 */

/** The matches the global search finds: where, and what. */
function searched(text: string): string[] {
  const re = new RegExp(DATE_PATTERN.source, 'gi');
  return Array.from(text.matchAll(re), (m) => `${m.index}:${m[0]}`);
}

/** The same from a sticky try at each place DATE_STARTS names (skipping those inside the last match, as the detector does). */
function tried(text: string): string[] {
  const sticky = new RegExp(DATE_PATTERN.source, 'iy');
  const out: string[] = [];
  let from = 0;
  let previous = -1;
  DATE_STARTS(digitRuns(text), text, (at) => {
    // named in increasing order, each once
    expect(at).toBeGreaterThan(previous);
    previous = at;
    if (at < from) return;
    sticky.lastIndex = at;
    const m = sticky.exec(text);
    from = m ? at + m[0].length : at + 1;
    if (m) out.push(`${m.index}:${m[0]}`);
  });
  return out;
}

describe('DATE_STARTS: the dates the whole-text search finds', () => {
  it.each<[string, string, number]>([
    ['m/d/yyyy at the text start', '03/15/1962 DOB', 1],
    ['at the text end', 'DOB 3-5-2001', 1],
    ['d.m.yyyy', 'geb. 3.5.1961', 1],
    ['ISO with a slash', 'born 1961/03/05.', 1],
    ['ISO right after a letter is no date', 'x1961-03-05', 0],
    ['the longest Spanish form', 'nacido el 31. de septiembre de 1961', 1],
    ['a month in capitals, a period', 'DOB: SEPT. 3, 1970', 1],
    ['a month in lower case, no comma', 'dob january 3 1970', 1],
    ['a month glued to a letter is no word', 'xjan 3, 1970', 0],
    ['German with ä', 'geboren am 3. März 1961', 1],
    ['German with Ä in capitals', '3. MÄRZ 1961', 1],
    ['French with û', 'née le 3 août 1961', 1],
    ['CR between two dates', 'DOB 01/02/1970\r03/04/1980\r', 2],
    ['a five-digit year is none', 'DOB 01/02/19701', 0],
    ['a three-digit day is none', 'DOB 101/02/1970', 0],
    ['a ’ before the day', 'DOB’01/02/1970', 1],
    ['a letter beyond ASCII before the day', 'é01/02/1970', 1],
    ['a digit run too long between', '01/02/2019 1234567 2020-01-01', 2],
    ['dates sharing their digits', '1/2/1970-01-01 12/31/1999/01/01', 2],
    ['a record export\'s day-month-year', 'DOB: 12-Mar-1948', 1],
    ['the same in capitals, with slashes and with periods', '12/MAR/1948 12.mar.1948', 2],
    ['an ordinal after the month', 'born March 12th, 1948', 1],
    ['an ordinal before the month, "of"', 'DOB 12th of March, 1948 and 1st May 1950', 2],
    ['an ordinal in capitals', 'DOB 3RD JUNE 1961', 1],
    ['letters after a day that are no ordinal', 'DOB 12ab March 1948', 0],
  ])('%s', (_name, text, count) => {
    expect(tried(text)).toEqual(searched(text));
    expect(searched(text)).toHaveLength(count);
  });

  it('finds the same on generated texts', () => {
    let seed = 7;
    const next = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pick = (list: readonly string[]): string => list[next(list.length)] ?? '';
    const days = ['1', '01', '9', '12', '3', '05', '13', '29', '31', '32', '0', '123'];
    const years = ['1961', '2024', '1970', '2000', '2019', '1899', '19611', '961'];
    const months = ['Jan', 'JAN', 'january', 'Sept', 'sept', 'SEPTEMBER', 'May', 'dec', 'Decem', 'Ma'];
    const intl = ['März', 'MÄRZ', 'maerz', 'août', 'septiembre', 'setiembre', 'mai', 'Mayo', 'décembre', 'DICIEMBRE'];
    const seps = ['/', '-', '.', '/', '-', ' ', '. ', ''];
    const ordinals = ['', '', 'th', 'st', 'ND', 'rd', 'x', 't'];
    const date = (): string => {
      switch (next(5)) {
        case 0: {
          const sep = pick(seps);
          return `${pick(days)}${sep}${pick(days)}${next(4) === 0 ? pick(seps) : sep}${pick(years)}`;
        }
        case 1: {
          const sep = pick(seps);
          return `${pick(years)}${sep}${pick(days)}${next(4) === 0 ? pick(seps) : sep}${pick(days)}`;
        }
        case 2:
          return `${pick(months)}${pick(['.', ''])}${pick([' ', '  ', ''])}${pick(days)}${pick(ordinals)}${pick([',', ''])} ${pick(years)}`;
        case 3:
          return `${pick(days)}${pick(ordinals)}${pick([' of', ''])}${pick([' ', '-', '/', '.', ''])}${pick(months)}${pick([',', '', '-', '/', '.'])}${pick([' ', ''])}${pick(years)}`;
        default:
          return `${pick(days)}${pick(['.', ''])} ${pick(['de ', ''])}${pick(intl)}${pick([' de', ''])} ${pick(years)}`;
      }
    };
    const noise = ['DOB: ', ' ', 'x', '_', '\r\n', '\t', 'é', '’', '7', 'born ', '(', 'a1', '-'];
    let found = 0;
    for (let t = 0; t < 6000; t++) {
      // now and then a long text of many digit runs (the runs' typed-array tables)
      const parts = t % 200 === 0 ? 800 : 1 + next(4);
      let text = '';
      for (let i = 0; i < parts; i++) text += pick(noise) + date();
      // a character changed, dropped or added here and there
      for (let k = next(3); k > 0; k--) {
        const at = next(text.length + 1);
        text = text.slice(0, at) + pick(['', '0', '2', ' ', 'a', '/', '.']) + text.slice(at + next(2));
      }
      const expected = searched(text);
      expect(tried(text), text).toEqual(expected);
      found += expected.length;
    }
    expect(found).toBeGreaterThan(5000);
  });
});
