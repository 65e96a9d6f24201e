/**
 * The pure parts of `sealgate migrate`'s table copy (src/db/copy-tables.ts):
 * the canonical row form both sides are hashed in, the copy order, the
 * keyset page SQL, the schema comparison. The copy itself runs against real
 * SQLite and PostgreSQL in test/integration/migrate.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { batchRows, canonicalRow, copyOrder, ident, pageSql, parseKey, schemaDifferences, type TableInfo } from '../../src/db/copy-tables.js';

const table = (name: string, references: string[] = [], primaryKey = ['id'], columns = ['id', 'v']): TableInfo => ({ name, columns, primaryKey, references });

describe('canonicalRow', () => {
  it.each<[string, unknown[], string]>([
    ['integers, text, null', [1, 'a', null], '["i1","sa","N"]\n'],
    ['a bigint is the same as the number', [12n], '["i12"]\n'],
    ['bytes as hex', [Buffer.from([0, 255])], '["b00ff"]\n'],
    ['a Uint8Array as a Buffer', [new Uint8Array([1, 2])], '["b0102"]\n'],
    ['text that looks like a number stays text', ['1'], '["s1"]\n'],
    ['a fraction', [1.5], '["f1.5"]\n'],
    ['undefined as null', [undefined], '["N"]\n'],
    ['separators inside text are escaped', ['a","b\n'], '["sa\\",\\"b\\n"]\n'],
  ])('%s', (_, values, want) => {
    expect(canonicalRow(values)).toBe(want);
  });

  it('tells apart rows that differ only in type or in where a value ends', () => {
    expect(canonicalRow(['1'])).not.toBe(canonicalRow([1]));
    expect(canonicalRow(['ab', 'c'])).not.toBe(canonicalRow(['a', 'bc']));
    expect(canonicalRow([''])).not.toBe(canonicalRow([null]));
    expect(canonicalRow([Buffer.from('a')])).not.toBe(canonicalRow(['a']));
  });

  it('refuses a value of another type', () => {
    expect(() => canonicalRow([{}])).toThrow(/unexpected value/);
  });
});

describe('copyOrder', () => {
  it.each<[string, TableInfo[], string[]]>([
    ['by name without references', [table('b'), table('a')], ['a', 'b']],
    ['a parent before its children', [table('a_child', ['z_parent']), table('z_parent')], ['z_parent', 'a_child']],
    ['through two levels', [table('c', ['b']), table('b', ['a']), table('a')], ['a', 'b', 'c']],
    ['a reference to itself is ignored', [table('t', ['t'])], ['t']],
    ['a reference to a table not copied is ignored', [table('t', ['gone'])], ['t']],
  ])('%s', (_, tables, want) => {
    expect(copyOrder(tables).map((t) => t.name)).toEqual(want);
  });

  it('refuses a cycle', () => {
    expect(() => copyOrder([table('a', ['b']), table('b', ['a'])])).toThrow(/cycle/);
  });
});

describe('pageSql', () => {
  it.each<[string, TableInfo, unknown[] | undefined, Set<string>, string, unknown[]]>([
    ['the first page', table('t'), undefined, new Set(), 'SELECT "id", "v" FROM "t" ORDER BY "id" LIMIT ?', [10]],
    ['after a key', table('t'), ['k'], new Set(), 'SELECT "id", "v" FROM "t" WHERE ("id") > (?) ORDER BY "id" LIMIT ?', ['k', 10]],
    ['a composite key, text in byte order', table('r', [], ['m', 's'], ['m', 's', 'x']), ['k', 2], new Set(['m']), 'SELECT "m", "s", "x" FROM "r" WHERE ("m" COLLATE "C", "s") > (?, ?) ORDER BY "m" COLLATE "C", "s" LIMIT ?', ['k', 2, 10]],
  ])('%s', (_, t, after, textKeys, sql, params) => {
    expect(pageSql(t, after as never, 10, textKeys)).toEqual({ sql, params });
  });
});

describe('ident', () => {
  it.each(['t', 'audit_log', 'a1'])('quotes %s', (n) => expect(ident(n)).toBe(`"${n}"`));
  it.each(['', 'A', 'a"b', 'a b', '1a', 'x;drop'])('refuses %j', (n) => expect(() => ident(n)).toThrow(/unexpected table or column name/));
});

describe('schemaDifferences', () => {
  const target = (tables: Record<string, string[]>): Map<string, Map<string, string>> => new Map(Object.entries(tables).map(([t, cols]) => [t, new Map(cols.map((c) => [c, 'text']))]));
  it.each<[string, Record<string, string[]>, string[]]>([
    ['the same', { t: ['id', 'v'], schema_version: ['version'], sealgate_migration: ['table_name'] }, []],
    ['a table missing', {}, ['table t is missing']],
    ['a column missing and one extra', { t: ['id', 'w'] }, ['table t lacks column(s) v', 'table t has extra column(s) w']],
    ['a table the source lacks', { t: ['id', 'v'], u: ['id'] }, ['table u is not in the source']],
  ])('%s', (_, tables, want) => {
    expect(schemaDifferences([table('t')], target(tables))).toEqual(want);
  });
});

describe('batchRows and parseKey', () => {
  it.each<[number, number, number]>([
    [500, 10, 500],
    [500, 100, 300],
    [10_000, 20, 1500],
    [5, 0, 5],
  ])('batchRows(%i, %i columns) = %i', (wanted, cols, want) => expect(batchRows(wanted, cols)).toBe(want));

  it.each<[string | null, unknown]>([
    [null, undefined],
    ['["a",1]', ['a', 1]],
  ])('parseKey(%j)', (text, want) => expect(parseKey(text)).toEqual(want));

  it('refuses a key that is not an array of text and numbers', () => {
    expect(() => parseKey('{"a":1}')).toThrow(/unreadable last_key/);
    expect(() => parseKey('[[1]]')).toThrow(/unreadable last_key/);
  });
});
