/**
 * Commerce between organisations: a supplier's invoice, order, shipment or
 * remittance. There an account number is a customer's with the supplier,
 * and a bank account the supplier's own, not a person's.
 */
import { scanOnce } from './scan-cache.js';

/**
 * The marks of a supplier's invoice, order, shipment or remittance
 * ("Invoice #", "PO #", "Tracking #", "Ship to", "Net 30", "Subtotal",
 * "Remit to", "Cust #", "Vendor ID"): a text with two different ones is commerce between
 * organisations, where an account number is a customer's.
 */
const COMMERCE_MARK =
  /\b(?:(invoice)\s*(?:#|(?:no|number|date)\b)|(purchase\s+order\b|p\.?o\.?\s*(?:#|(?:no|number)\b))|(cust(?:omer)?)\.?\s*(?:#|(?:po|account|acct|no|number)\b)|(order)\s*(?:#|(?:no|number|date)\b)|(sales\s+order\b)|(tracking)\s*(?:#|(?:no|number)\b)|(ship(?:s|ped)?)\s+(?:to|date|via)\b|(remit(?:tance)?)[\s-]+(?:to|advice|address|e-?mail)\b|(vendor)\s*(?:#|(?:id|no|number|name|master)\b)|(net\s+(?:15|30|45|60)\b)|(freight\b)|(subtotal\b))/gi;

/** Whether the text holds two different COMMERCE_MARKs (found once per text within a verdict). */
export const commerceDocument: (text: string) => boolean = scanOnce(twoCommerceMarks);

function twoCommerceMarks(text: string): boolean {
  let first = 0;
  COMMERCE_MARK.lastIndex = 0;
  for (let m = COMMERCE_MARK.exec(text); m; m = COMMERCE_MARK.exec(text)) {
    // which kind of mark: the number of its group
    const kind = m.findIndex((g, i) => i > 0 && g !== undefined);
    if (first === 0) first = kind;
    else if (kind !== first) {
      COMMERCE_MARK.lastIndex = 0;
      return true;
    }
  }
  return false;
}
