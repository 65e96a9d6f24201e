/**
 * Keyword proximity, as Microsoft Purview's sensitive information types use
 * it: a pattern match counts for more when a supporting keyword appears
 * within `window` characters before or after it.
 */
export function keywordNear(text: string, index: number, length: number, keywords: RegExp, window = 80): boolean {
  const start = Math.max(0, index - window);
  const end = Math.min(text.length, index + length + window);
  const around = text.slice(start, index) + ' ' + text.slice(index + length, end);
  keywords.lastIndex = 0;
  return keywords.test(around);
}
