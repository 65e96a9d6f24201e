/**
 * The portal's outgoing mail, as a port: the web pages ask for a sign-in
 * code mail through this interface; the daemon's implementation
 * (portal-mail.ts) builds the mail and queues it durably like any other
 * message. Nothing here carries message content.
 */
export interface CodeMailInput {
  readonly depositId: string;
  /** The recipient's address, as deposited. */
  readonly recipient: string;
  /** The code: written into the mail's text part as its only 6–8 digit number, never logged or audited. */
  readonly code: string;
  /** ms since the epoch: when the code stops working. */
  readonly expiresAt: number;
}

export interface ReadReceiptMailInput {
  /** The original sender (envelope), who gets the receipt. */
  readonly to: string;
  /** The recipient who opened the message. */
  readonly recipient: string;
  readonly openedAt: number;
  readonly sentAt: number;
  /** The original's Message-ID, so the sender's client threads the receipt with the sent message. */
  readonly inReplyTo?: string | undefined;
}

export interface PortalMailer {
  /** Queues the sign-in code mail; resolves with that mail's queue id once its rows are committed. */
  sendCode(input: CodeMailInput): Promise<string>;
  /** Queues a read receipt to the original sender (portal.readReceipts); absent: none are sent. */
  sendReadReceipt?(input: ReadReceiptMailInput): Promise<string>;
}
