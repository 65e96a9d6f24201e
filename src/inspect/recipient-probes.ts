/**
 * A message's recipients with their domains' stored probe results, read in
 * one statement (a LEFT JOIN on probe_results, both schemas) instead of one
 * read for the recipients and one for each recipient's domain: the
 * inspector's reads on every message.
 */
import type { ProbeRow } from '../probe/domain-probe.js';

/** Each recipient of message `?` (in RCPT order) once per row of its domain's probe result (in probe order), or once with NULLs. */
export const RECIPIENTS_WITH_PROBES = `SELECT r.seq, r.address, r.domain, r.requirement,
    p.mx AS probe_mx, p.ip AS probe_ip, p.probed_at, p.expires_at, p.result
  FROM recipients r LEFT JOIN probe_results p ON p.domain = r.domain
  WHERE r.message_id = ? ORDER BY r.seq, p.mx_order`;

export interface RecipientProbeRow {
  readonly seq: number;
  readonly address: string;
  readonly domain: string;
  readonly requirement: string;
  readonly probe_mx: string | null;
  readonly probe_ip: string | null;
  readonly probed_at: number | null;
  readonly expires_at: number | null;
  readonly result: string | null;
}

export interface RecipientWithProbe {
  readonly seq: number;
  readonly address: string;
  readonly domain: string;
  readonly requirement: string;
  /** Its domain's probe rows in probe order (none: never probed). */
  readonly probeRows: readonly ProbeRow[];
}

/** Pure: the joined rows grouped back into recipients, in RCPT order. */
export function recipientsWithProbes(rows: readonly RecipientProbeRow[]): RecipientWithProbe[] {
  const out: { seq: number; address: string; domain: string; requirement: string; probeRows: ProbeRow[] }[] = [];
  for (const row of rows) {
    let last = out[out.length - 1];
    if (last?.seq !== row.seq) {
      last = { seq: row.seq, address: row.address, domain: row.domain, requirement: row.requirement, probeRows: [] };
      out.push(last);
    }
    if (row.probe_mx !== null && row.probe_ip !== null && row.probed_at !== null && row.expires_at !== null && row.result !== null) {
      last.probeRows.push({ mx: row.probe_mx, ip: row.probe_ip, probed_at: Number(row.probed_at), expires_at: Number(row.expires_at), result: row.result });
    }
  }
  return out;
}
