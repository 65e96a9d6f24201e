/**
 * Character-code tests for the passes that read a text by char codes instead
 * of slicing it for a regular expression. Each matches exactly what the named
 * pattern construct matches on one UTF-16 code unit.
 */

/** Code units the char-code passes look for, named once. */
export const TAB = 9;
export const NEWLINE = 10;
export const SPACE = 32;
export const EXCLAMATION = 33;
export const QUOTE = 34;
export const OPEN_PAREN = 40;
export const CLOSE_PAREN = 41;
export const HYPHEN = 45;
export const FULL_STOP = 46;
export const COMMA = 44;
export const COLON = 58;
export const SEMICOLON = 59;
export const QUESTION = 63;
export const OPEN_BRACKET = 91;
export const CLOSE_BRACKET = 93;
export const PIPE = 124;
export const MIDDLE_DOT = 0xb7;

/** White space as `\s` (without the u flag) and String.prototype.trim see it. */
export function isSpaceCode(c: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}
