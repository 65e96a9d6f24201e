/**
 * Pure: the stores write SQL with SQLite's `?` placeholders; PostgreSQL wants
 * `$1, $2, …`. This rewrites every `?` that is a placeholder and leaves alone
 * the ones that are text: inside '…' strings (with '' inside, and E'…' with
 * backslash escapes), "…" quoted identifiers, -- line comments, /* … *\/ block
 * comments (which nest in PostgreSQL) and $tag$ … $tag$ dollar-quoted strings.
 *
 * PostgreSQL's jsonb operators `?`, `?|`, `?&` cannot be told apart from a
 * placeholder; portable SQL does not use them (write jsonb_exists() instead).
 */

export interface TranslatedSql {
  readonly text: string;
  /** How many placeholders were numbered. */
  readonly count: number;
}

const IDENT_CHAR = /[A-Za-z0-9_]/;

export function translatePlaceholders(sql: string): TranslatedSql {
  let out = '';
  let count = 0;
  let i = 0;
  const n = sql.length;
  while (i < n) {
    const c = sql[i] as string;
    const next = sql[i + 1];
    if (c === '?') {
      out += `$${++count}`;
      i++;
    } else if (c === "'") {
      // E'…' (escape string): backslash escapes a character; an E right before the quote that ends an identifier does not count
      const prev = sql[i - 1];
      const escape = (prev === 'E' || prev === 'e') && !IDENT_CHAR.test(sql[i - 2] ?? ' ');
      const end = skipQuoted(sql, i, "'", escape);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '"') {
      const end = skipQuoted(sql, i, '"', false);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '-' && next === '-') {
      const nl = sql.indexOf('\n', i);
      const end = nl === -1 ? n : nl + 1;
      out += sql.slice(i, end);
      i = end;
    } else if (c === '/' && next === '*') {
      const end = skipBlockComment(sql, i);
      out += sql.slice(i, end);
      i = end;
    } else if (c === '$' && !IDENT_CHAR.test(sql[i - 1] ?? ' ')) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        const end = close === -1 ? n : close + tag[0].length;
        out += sql.slice(i, end);
        i = end;
      } else {
        out += c;
        i++;
      }
    } else {
      out += c;
      i++;
    }
  }
  return { text: out, count };
}

/** The index just past a quoted run starting at `start` (a doubled quote stays inside); unterminated: the end. */
function skipQuoted(sql: string, start: number, quote: string, backslashEscapes: boolean): number {
  let i = start + 1;
  while (i < sql.length) {
    const c = sql[i];
    if (backslashEscapes && c === '\\') {
      i += 2;
    } else if (c === quote) {
      if (sql[i + 1] === quote) i += 2;
      else return i + 1;
    } else {
      i++;
    }
  }
  return sql.length;
}

function skipBlockComment(sql: string, start: number): number {
  let depth = 0;
  let i = start;
  while (i < sql.length) {
    if (sql[i] === '/' && sql[i + 1] === '*') {
      depth++;
      i += 2;
    } else if (sql[i] === '*' && sql[i + 1] === '/') {
      depth--;
      i += 2;
      if (depth === 0) return i;
    } else {
      i++;
    }
  }
  return sql.length;
}
