/**
 * The health dictionary as a trie over characters, matched the way a
 * case-insensitive regex without the unicode flag matches the alternation of
 * its terms (longest term first): characters compared by their upper case
 * (one code unit, ASCII never from outside it), a space in a term is one or
 * more whitespace characters, a term starts and ends where no letter, digit
 * or mark (any script) touches it, and where several terms match at a place
 * the one first in the regex's order wins.
 *
 * Stored flat, in typed arrays indexed by node number, so that following an
 * edge is two array reads: the ASCII edges in one table (a row per node, a
 * column per case-folded character the terms use), the rest in a map; and
 * the nodes three ASCII edges away from the root in a table of their own.
 */
import { SPACE, WORD, canonical, unitClass } from './health-terms-chars.js';

export interface TermTrie {
  /** `ascii[node * width + column[c]]`: the child for ASCII code c, 0 (NO_NODE) for none. */
  readonly ascii: Uint16Array;
  readonly column: Uint8Array;
  readonly width: number;
  /** The child for any other code unit, by `node * 0x10000 + canonical(c)`. */
  readonly wide: Map<number, number>;
  /** The child for a space in a term (one or more whitespace characters), 0 for none. */
  readonly spaced: Uint16Array;
  /** The term ending at a node: its place in the regex's alternation (lower wins), NO_TERM for none. */
  readonly rank: Int32Array;
  /** The term ending at a node, lower case with single spaces: what a match written in ASCII reads as. */
  readonly term: readonly string[];
  /**
   * The node three ASCII edges from the root lead to, by their columns
   * (`(a * width + b) * width + c`): most words begin with three ASCII
   * letters, and one lookup here takes the walk past them.
   */
  readonly starts: Uint16Array;
}

const NO_TERM = 0x7fffffff;
/** The key of a space in a term while building. */
const SPACE_KEY = -1;

interface BuildNode {
  readonly next: Map<number, number>;
  rank: number;
  term: string;
}

export function buildTermTrie(terms: readonly string[]): TermTrie {
  // nodes[0] is the root (numbered 1 once flat)
  const nodes: BuildNode[] = [{ next: new Map(), rank: NO_TERM, term: '' }];
  const ordered = [...terms].sort((a, b) => b.length - a.length);
  ordered.forEach((term, rank) => {
    let node = 0;
    for (let i = 0; i < term.length; i++) {
      const key = term[i] === ' ' ? SPACE_KEY : canonical(term.charCodeAt(i));
      let child = nodes[node]?.next.get(key);
      if (child === undefined) {
        child = nodes.length;
        nodes.push({ next: new Map(), rank: NO_TERM, term: '' });
        nodes[node]?.next.set(key, child);
      }
      node = child;
    }
    const end = nodes[node] as BuildNode;
    if (rank < end.rank) {
      end.rank = rank;
      end.term = normalTerm(term);
    }
  });
  return flatten(nodes);
}

/** Whether a term ends at `node`. */
export const endsTerm = (trie: TermTrie, node: number): boolean => (trie.rank[node] as number) !== NO_TERM;

/** What a match reads as: lower case, each run of whitespace one space. */
export const normalTerm = (found: string): string => found.toLowerCase().replace(/\s+/g, ' ');

/** Node numbers: 0 is no node (every edge from it leads back to it), 1 the root. */
export const NO_NODE = 0;
export const ROOT = 1;

function flatten(nodes: readonly BuildNode[]): TermTrie {
  const count = nodes.length + 1;
  if (count > 0xffff) throw new Error('health term trie too large for 16-bit node numbers');
  // one column per canonical ASCII key the terms use (0: none); a and A share one
  const column = new Uint8Array(128);
  let width = 1;
  for (const node of nodes) {
    for (const key of node.next.keys()) {
      if (key < 0 || key >= 128 || column[key] !== 0) continue;
      column[key] = width;
      if (key >= 65 && key <= 90) column[key + 32] = width;
      width++;
    }
  }
  const ascii = new Uint16Array(count * width);
  const wide = new Map<number, number>();
  const spaced = new Uint16Array(count);
  const rank = new Int32Array(count).fill(NO_TERM);
  const term: string[] = [''];
  nodes.forEach((node, index) => {
    const id = index + 1;
    rank[id] = node.rank;
    term.push(node.term);
    for (const [key, childIndex] of node.next) {
      const child = childIndex + 1;
      if (key === SPACE_KEY) spaced[id] = child;
      else if (key < 128) ascii[id * width + (column[key] as number)] = child;
      else wide.set(id * 0x10000 + key, child);
    }
  });
  return { ascii, column, width, wide, spaced, rank, term, starts: threeSteps(ascii, width) };
}

/** The `starts` table: every path of three ASCII edges from the root. */
function threeSteps(ascii: Uint16Array, width: number): Uint16Array {
  const starts = new Uint16Array(width * width * width);
  for (let a = 1; a < width; a++) {
    const x = ascii[ROOT * width + a] as number;
    if (x === NO_NODE) continue;
    for (let b = 1; b < width; b++) {
      const y = ascii[x * width + b] as number;
      if (y === NO_NODE) continue;
      for (let c = 1; c < width; c++) starts[(a * width + b) * width + c] = ascii[y * width + c] as number;
    }
  }
  return starts;
}

const wordAt = (units: Uint16Array, i: number): boolean => i >= 0 && i < units.length && (unitClass(units[i] as number) & WORD) !== 0;

const spaceAt = (units: Uint16Array, i: number): boolean => i < units.length && (unitClass(units[i] as number) & SPACE) !== 0;

/** The child of `node` for code unit `c` (not a space edge), NO_NODE for none (and from NO_NODE). */
export function childOf(trie: TermTrie, node: number, c: number): number {
  if (c < 128) return trie.ascii[node * trie.width + (trie.column[c] as number)] as number;
  return node === NO_NODE ? NO_NODE : (trie.wide.get(node * 0x10000 + canonical(c)) ?? NO_NODE);
}

/**
 * Whether a walk that reached `node` at the end of a word (`end`: the first
 * unit after it, not a word character) can still find a term: a term ends
 * there, or one goes on with the unit after the word (a space, a hyphen …).
 * Most words that begin a term ("the", "with", "as") get no further.
 */
export function mayGoOn(trie: TermTrie, node: number, units: Uint16Array, end: number): boolean {
  if (endsTerm(trie, node)) return true;
  if (end >= units.length) return false;
  const c = units[end] as number;
  if ((trie.spaced[node] as number) !== NO_NODE && (unitClass(c) & SPACE) !== 0) return true;
  return childOf(trie, node, c) !== NO_NODE;
}

/** A term found: where it ends, and what it reads as. */
export interface TermMatch {
  end: number;
  term: string;
}

/**
 * The term starting at `p` (a word start), if any: the longest the regex's
 * alternation would take there, ending at a word boundary. The walk has
 * already followed the word characters [p, word) to `node` (no term ends
 * inside a word: no boundary there). Writes into `found` (reused: no
 * allocation per word) and returns whether a term was found.
 */
export function termFrom(trie: TermTrie, text: string, units: Uint16Array, p: number, node: number, word: number, found: TermMatch): boolean {
  const { rank } = trie;
  const n = units.length;
  let i = word;
  let best = NO_TERM;
  let end = -1;
  let endNode = NO_NODE;
  // every character after the word taken by an ASCII edge or a space: the match reads as the node's term (if the word is ASCII too)
  let plain = true;
  let plainEnd = true;
  for (;;) {
    const r = rank[node] as number;
    if (r < best && wordAt(units, i - 1) !== wordAt(units, i)) {
      best = r;
      end = i;
      endNode = node;
      plainEnd = plain;
    }
    if (i >= n) break;
    const k = units[i] as number;
    const spacedChild = trie.spaced[node] as number;
    if (spacedChild !== NO_NODE && spaceAt(units, i)) {
      i++;
      while (spaceAt(units, i)) i++;
      node = spacedChild;
      continue;
    }
    if (k >= 128) plain = false;
    node = childOf(trie, node, k);
    if (node === NO_NODE) break;
    i++;
  }
  if (end < 0) return false;
  found.end = end;
  found.term = plainEnd && asciiOnly(units, p, word) ? (trie.term[endNode] as string) : normalTerm(text.slice(p, end));
  return true;
}

function asciiOnly(units: Uint16Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if ((units[i] as number) >= 128) return false;
  return true;
}
