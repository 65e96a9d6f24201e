/**
 * Whether an address is at a personal mailbox provider (Gmail, Yahoo, an
 * ISP's mail …) rather than an organisation's own domain: mail from such an
 * address in a clinic's traffic is a patient's, a family's or a member of
 * the public's, not staff's, whose mail comes from the organisation's domain.
 * Known providers by name; otherwise a domain whose name says mail or post
 * ("homemail", "fastpost", "webmail", "correo"). Pure.
 */

const PROVIDERS: ReadonlySet<string> = new Set([
  'gmail.com', 'googlemail.com', 'yahoo.com', 'ymail.com', 'rocketmail.com', 'hotmail.com', 'outlook.com', 'live.com', 'msn.com', 'aol.com',
  'icloud.com', 'me.com', 'mac.com', 'comcast.net', 'att.net', 'sbcglobal.net', 'bellsouth.net', 'verizon.net', 'cox.net', 'charter.net',
  'spectrum.net', 'rr.com', 'roadrunner.com', 'earthlink.net', 'optonline.net', 'frontier.com', 'windstream.net', 'centurylink.net', 'juno.com',
  'netzero.net', 'protonmail.com', 'proton.me', 'pm.me', 'tutanota.com', 'fastmail.com', 'zoho.com', 'gmx.com', 'gmx.net', 'gmx.de', 'web.de',
  't-online.de', 'mail.com', 'yandex.ru', 'yandex.com', 'mail.ru', 'qq.com', '163.com', '126.com', 'naver.com', 'daum.net', 'hanmail.net',
  'orange.fr', 'free.fr', 'laposte.net', 'libero.it', 'uol.com.br', 'bol.com.br', 'terra.com.br', 'prodigy.net.mx',
]);

/** A domain's name that says it is a mailbox service: "…mail", "…post", "…box", "correo…", "webmail…", "inbox…". */
const MAILBOX_NAME = /(?:mail|post|box)$|^(?:correo|webmail|inbox|mail)/;

export function personalMailbox(address: string): boolean {
  const at = address.lastIndexOf('@');
  if (at < 0) return false;
  const domain = address.slice(at + 1).toLowerCase().replace(/\.$/, '');
  if (PROVIDERS.has(domain)) return true;
  // the name left of the public suffix: "homemail" of homemail.example, "yahoo" of yahoo.co.uk
  const labels = domain.split('.');
  const name = labels.length >= 3 && /^(?:co|com|net|org)$/.test(labels[labels.length - 2] ?? '') ? labels[labels.length - 3] : labels[labels.length - 2];
  return name !== undefined && (MAILBOX_NAME.test(name) || PROVIDERS.has(`${name}.com`));
}
