/**
 * A Content-Type value read just far enough to classify a message: the media
 * type and its parameters (quoted or not, names in lower case). RFC 2231
 * continuations are not joined; nothing here needs them.
 */

export interface ContentType {
  /** "type/subtype" in lower case; "" when the value has none. */
  readonly mediaType: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Pure: the media type and parameters of a Content-Type value. */
export function parseContentType(value: string): ContentType {
  const semi = value.indexOf(';');
  const mediaType = (semi < 0 ? value : value.slice(0, semi)).replace(/\([^)]*\)/g, '').trim().toLowerCase();
  const params: Record<string, string> = {};
  if (semi >= 0) {
    const re = /;\s*([^=;\s]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
    const rest = value.slice(semi);
    for (let m = re.exec(rest); m; m = re.exec(rest)) {
      const name = (m[1] ?? '').toLowerCase();
      if (!(name in params)) params[name] = m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : (m[3] ?? '');
    }
  }
  return { mediaType, params };
}
