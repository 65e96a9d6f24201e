/**
 * The audit hash chain, as pure functions (no I/O, no clock).
 *
 *   hash(n) = hex(sha256(utf8(prev_hash(n) + "\n" + canonicalJson({ seq, ts, type, data }))))
 *   prev_hash(1) = GENESIS_HASH (64 zeros), prev_hash(n) = hash(n - 1)
 *
 * docs/audit.md describes the construction for auditors; keep them in step.
 */
import { createHash } from 'node:crypto';

/** `prev_hash` of the first event: 64 ASCII zeros. */
export const GENESIS_HASH = '0'.repeat(64);

/** The fields of a stored event that its hash covers (plus the previous hash). */
export interface ChainedEvent {
  readonly seq: number;
  readonly ts: number;
  readonly type: string;
  readonly data: unknown;
}

/**
 * Canonical JSON: what `JSON.stringify` produces with no whitespace, except
 * that object keys are sorted, recursively, in ascending UTF-16 code unit
 * order (JavaScript's default `sort()`). For the values audit events hold
 * (strings, safe integers, arrays, plain objects) this is the RFC 8785 (JCS)
 * serialization.
 *
 * Accepts only null, booleans, finite numbers, strings, arrays and plain
 * objects (prototype `Object.prototype` or null). Throws a TypeError for
 * `undefined` (also as a property value or array element), functions,
 * symbols, bigints, NaN and ±Infinity, sparse arrays, cycles and any other
 * object (Date, Buffer, Map…: no `toJSON` is honoured). Numbers use
 * JavaScript's shortest round-trip form; -0 is written as 0.
 */
export function canonicalJson(value: unknown): string {
  const out: string[] = [];
  write(value, out, new Set<object>(), []);
  return out.join('');
}

/** Where a value sits, as `$.a[0].b`: made only for an error (the keys and indexes on the way there, as `write` holds them). */
function pathOf(keys: readonly (string | number)[]): string {
  return `$${keys.map((k) => (typeof k === 'number' ? `[${k}]` : `.${k}`)).join('')}`;
}

function write(value: unknown, out: string[], ancestors: Set<object>, keys: (string | number)[]): void {
  switch (typeof value) {
    case 'string':
      out.push(JSON.stringify(value));
      return;
    case 'boolean':
      out.push(value ? 'true' : 'false');
      return;
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError(`canonicalJson: ${String(value)} at ${pathOf(keys)} is not JSON`);
      out.push(JSON.stringify(value));
      return;
    case 'object':
      break;
    default:
      throw new TypeError(`canonicalJson: ${typeof value} at ${pathOf(keys)} is not JSON`);
  }
  if (value === null) {
    out.push('null');
    return;
  }
  if (ancestors.has(value)) throw new TypeError(`canonicalJson: cycle at ${pathOf(keys)}`);
  ancestors.add(value);
  if (Array.isArray(value)) {
    out.push('[');
    for (let i = 0; i < value.length; i++) {
      if (!Object.hasOwn(value, i)) throw new TypeError(`canonicalJson: hole at ${pathOf([...keys, i])}`);
      if (i > 0) out.push(',');
      keys.push(i);
      write(value[i], out, ancestors, keys);
      keys.pop();
    }
    out.push(']');
  } else {
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new TypeError(`canonicalJson: non-plain object at ${pathOf(keys)}`);
    const record = value as Record<string, unknown>;
    out.push('{');
    let first = true;
    for (const key of Object.keys(record).sort()) {
      if (!first) out.push(',');
      first = false;
      out.push(JSON.stringify(key), ':');
      keys.push(key);
      write(record[key], out, ancestors, keys);
      keys.pop();
    }
    out.push('}');
  }
  ancestors.delete(value);
}

/**
 * The hash of one event: lowercase hex sha256 over the UTF-8 bytes of
 * `prevHash + '\n' + canonicalJson({ seq, ts, type, data })`. Throws (from
 * canonicalJson) if `data` is not canonicalizable.
 */
export function eventHash(prevHash: string, event: ChainedEvent): string {
  return chainedHash(prevHash, event.seq, event.ts, event.type, canonicalJson(event.data));
}

/**
 * `eventHash` for an event whose data is already canonical JSON (`dataJson`,
 * as stored): the hashed object's keys in their sorted order (data, seq, ts,
 * type), so the data is serialized once for its row and its hash.
 */
export function chainedHash(prevHash: string, seq: number, ts: number, type: string, dataJson: string): string {
  const body = `{"data":${dataJson},"seq":${canonicalJson(seq)},"ts":${canonicalJson(ts)},"type":${canonicalJson(type)}}`;
  return createHash('sha256').update(`${prevHash}\n${body}`, 'utf8').digest('hex');
}
