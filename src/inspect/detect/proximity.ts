/**
 * Keyword proximity, as Microsoft Purview's sensitive information types use
 * it: a pattern match counts for more when a supporting keyword appears
 * within `window` characters before or after it.
 */
export function keywordNear(text: string, index: number, length: number, keywords: RegExp, window = DEFAULT_WINDOW): boolean {
  keywords.lastIndex = 0;
  return keywords.test(textAround(text, index, length, window));
}

/** Characters looked at on each side of a match unless a detector says otherwise. */
export const DEFAULT_WINDOW = 80;

/** The `window` characters on each side of a match, joined by a space (the match itself left out): where its keywords are looked for. */
export function textAround(text: string, index: number, length: number, window = DEFAULT_WINDOW): string {
  const start = Math.max(0, index - window);
  const end = Math.min(text.length, index + length + window);
  // joined in one flat string (the regex would flatten a concatenation: a copy more)
  return [text.slice(start, index), text.slice(index + length, end)].join(' ');
}

/** The keyword closest to a match within `window` characters, and how far it is (for explanations; never the matched value). */
export function keywordAround(text: string, index: number, length: number, keywords: RegExp, window = DEFAULT_WINDOW): { keyword: string; distance: number } | undefined {
  const start = Math.max(0, index - window);
  const end = Math.min(text.length, index + length + window);
  const re = new RegExp(keywords.source, keywords.flags.includes('g') ? keywords.flags : `${keywords.flags}g`);
  let best: { keyword: string; distance: number } | undefined;
  for (const [part, offset] of [[text.slice(start, index), start], [text.slice(index + length, end), index + length]] as const) {
    for (const m of part.matchAll(re)) {
      const at = offset + m.index;
      const distance = at < index ? index - (at + m[0].length) : at - (index + length);
      if (!best || distance < best.distance) best = { keyword: m[0].trim(), distance: Math.max(0, distance) };
    }
  }
  return best;
}
