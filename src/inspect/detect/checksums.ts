/** Check-digit algorithms used by the identifier detectors. Pure. */

/** Luhn (mod 10) over a digit string, check digit included. */
export function luhnValid(digits: string): boolean {
  if (!/^\d+$/.test(digits) || digits.length < 2) return false;
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let d = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
  }
  return sum % 10 === 0;
}

const ABA_WEIGHTS: readonly number[] = [3, 7, 1, 3, 7, 1, 3, 7, 1];

/** ABA routing number: weights 3, 7, 1 over nine digits, sum divisible by 10. */
export function abaValid(digits: string): boolean {
  if (!/^\d{9}$/.test(digits)) return false;
  // on char codes: every nine-digit run is validated, an array per run would be garbage
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += (digits.charCodeAt(i) - 48) * (ABA_WEIGHTS[i] ?? 0);
  // the first two digits are a Federal Reserve routing symbol: 00-12, 21-32, 61-72, 80
  const prefix = (digits.charCodeAt(0) - 48) * 10 + (digits.charCodeAt(1) - 48);
  const prefixOk = prefix <= 12 || (prefix >= 21 && prefix <= 32) || (prefix >= 61 && prefix <= 72) || prefix === 80;
  return sum % 10 === 0 && prefixOk && digits !== '000000000';
}

/** NPI: Luhn over "80840" + the first nine digits, check digit last (CMS). */
export function npiValid(digits: string): boolean {
  return /^[12]\d{9}$/.test(digits) && luhnValid(`80840${digits}`);
}

/**
 * DEA registration number: two letters and seven digits; (d1+d3+d5) +
 * 2*(d2+d4+d6) ends in d7. The first letter is a registrant type.
 */
export function deaValid(id: string): boolean {
  const m = /^([ABCDEFGHJKLMPRSTUX])([A-Z9])(\d{7})$/.exec(id.toUpperCase());
  if (!m) return false;
  const d = [...(m[3] ?? '')].map((c) => c.charCodeAt(0) - 48);
  const sum = (d[0] ?? 0) + (d[2] ?? 0) + (d[4] ?? 0) + 2 * ((d[1] ?? 0) + (d[3] ?? 0) + (d[5] ?? 0));
  return sum % 10 === d[6];
}
