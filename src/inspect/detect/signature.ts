/**
 * Signature blocks: from a sign-off line ("Thanks,", "Best regards,",
 * "Mit freundlichen Grüßen", "Cordialement,") or the "-- " delimiter to the
 * next quoted message or at most a dozen lines. What is there — the
 * sender's name, title, organisation, address, phone numbers, a programme
 * named in a title ("Diabetes Educator") — is about the sender and the
 * organisation, not about a patient. Pure and linear.
 */

export interface Zone {
  readonly start: number;
  readonly end: number;
}

const SIGN_OFF =
  /^[ \t>]*(?:--[ \t]*|thanks(?:\s+(?:again|so\s+much))?|thank\s+you(?:\s+(?:again|so\s+much))?|many\s+thanks|best|all\s+the\s+best|best\s+regards|best\s+wishes|kind\s+regards|warm\s+regards|warmest\s+regards|regards|sincerely|yours\s+(?:sincerely|truly)|respectfully|cheers|take\s+care|cordialement|bien\s+cordialement|bien\s+à\s+vous|salutations\s+distinguées|mit\s+freundlichen\s+grüßen|mit\s+freundlichen\s+gruessen|freundliche\s+grüße|viele\s+grüße|beste\s+grüße|liebe\s+grüße|saludos(?:\s+cordiales)?|un\s+saludo|atentamente|cordialmente)[ \t]*[,.!]?[ \t]*$/i;

/** The start of a quoted or forwarded message: the signature above it ends there. */
const QUOTE_HEADER =
  /^[ \t>]*(?:on\s.{4,120}\swrote:|am\s.{4,120}\sschrieb.{0,40}:|el\s.{4,120}\sescribió:|le\s.{4,120}\sa\s+écrit\s*:|-{2,}\s*(?:original\s+message|forwarded\s+message|ursprüngliche\s+nachricht|mensaje\s+original|message\s+d['’]origine|weitergeleitete\s+nachricht)|begin\s+forwarded\s+message|_{8,}|(?:from|von|de|envoyé|gesendet|enviado)\s*:)/i;

const MAX_LINES = 12;

export function signatureZones(text: string): Zone[] {
  const zones: Zone[] = [];
  let open: { start: number; lines: number } | undefined;
  let pos = 0;
  while (pos <= text.length) {
    const nl = text.indexOf('\n', pos);
    const end = nl < 0 ? text.length : nl;
    const line = text.slice(pos, Math.min(end, pos + 200));
    if (open) {
      if (QUOTE_HEADER.test(line) || open.lines >= MAX_LINES) {
        zones.push({ start: open.start, end: pos });
        open = undefined;
      } else if (line.trim() !== '') open.lines++;
    }
    if (!open && end - pos <= 60 && SIGN_OFF.test(line)) open = { start: pos, lines: 0 };
    if (nl < 0) break;
    pos = nl + 1;
  }
  if (open) zones.push({ start: open.start, end: text.length });
  return zones;
}

export function inZone(zones: readonly Zone[], index: number): boolean {
  return zones.some((z) => index >= z.start && index < z.end);
}
