/**
 * Character-code tests for the passes that read a text by char codes instead
 * of slicing it for a regular expression. Each matches exactly what the named
 * pattern construct matches on one UTF-16 code unit.
 */

/** White space as `\s` (without the u flag) and String.prototype.trim see it. */
export function isSpaceCode(c: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}
