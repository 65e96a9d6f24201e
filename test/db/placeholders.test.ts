/** The ?-to-$n translator (src/db/placeholders.ts): placeholders numbered, text left alone. */
import { describe, expect, it } from 'vitest';
import { translatePlaceholders } from '../../src/db/placeholders.js';

const CASES: readonly (readonly [name: string, sql: string, text: string, count: number])[] = [
  ['none', 'SELECT 1', 'SELECT 1', 0],
  ['several in order', 'INSERT INTO t (a, b, c) VALUES (?, ?, ?)', 'INSERT INTO t (a, b, c) VALUES ($1, $2, $3)', 3],
  ['adjacent to operators', 'SELECT * FROM t WHERE a=?AND b<>?', 'SELECT * FROM t WHERE a=$1AND b<>$2', 2],
  ['inside a string', "SELECT '?' , ?", "SELECT '?' , $1", 1],
  ['doubled quote inside a string', "SELECT 'it''s ?', ?", "SELECT 'it''s ?', $1", 1],
  ['escape string with backslash quote', "SELECT E'a\\'?', ?", "SELECT E'a\\'?', $1", 1],
  ['E ending an identifier is not an escape string', "SELECT typE'x\\', ?", "SELECT typE'x\\', $1", 1],
  ['quoted identifier', 'SELECT "what?" FROM t WHERE x = ?', 'SELECT "what?" FROM t WHERE x = $1', 1],
  ['doubled quote in identifier', 'SELECT "a""?" , ?', 'SELECT "a""?" , $1', 1],
  ['line comment', 'SELECT ? -- why? because\n, ?', 'SELECT $1 -- why? because\n, $2', 2],
  ['line comment at the end', 'SELECT ? -- ok?', 'SELECT $1 -- ok?', 1],
  ['block comment', 'SELECT /* ? */ ?', 'SELECT /* ? */ $1', 1],
  ['nested block comment', 'SELECT /* a /* ? */ still ? */ ?', 'SELECT /* a /* ? */ still ? */ $1', 1],
  ['dollar-quoted string', 'SELECT $$ ? $$, ?', 'SELECT $$ ? $$, $1', 1],
  ['tagged dollar quote', 'SELECT $x$ ? $$ ? $x$, ?', 'SELECT $x$ ? $$ ? $x$, $1', 1],
  ['existing $n is left alone', 'SELECT $1', 'SELECT $1', 0],
  ['a $ inside an identifier is not a quote', 'SELECT a$b, ?', 'SELECT a$b, $1', 1],
  ['ten and more', `VALUES (${Array(11).fill('?').join(',')})`, `VALUES (${Array.from({ length: 11 }, (_, i) => `$${i + 1}`).join(',')})`, 11],
  ['unterminated string swallows the rest', "SELECT 'abc ?", "SELECT 'abc ?", 0],
  ['unterminated block comment swallows the rest', 'SELECT /* ?', 'SELECT /* ?', 0],
  ['minus alone is not a comment', 'SELECT ? - ?', 'SELECT $1 - $2', 2],
];

describe('translatePlaceholders', () => {
  it.each(CASES)('%s', (_name, sql, text, count) => {
    expect(translatePlaceholders(sql)).toEqual({ text, count });
  });
});
