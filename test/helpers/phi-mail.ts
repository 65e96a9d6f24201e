/** A PHI message with one attachment, as a clinic sends it: the fixture of the portal's end-to-end tests. */
export interface PhiMailInput {
  readonly from: string;
  readonly to: string;
  readonly subject: string;
  /** A marker put into the body, so tests can look for it where it must not be. */
  readonly bodyMarker: string;
  readonly attachmentName: string;
  readonly attachmentType: string;
  readonly attachment: Buffer;
  readonly messageId?: string | undefined;
}

export function phiMail(m: PhiMailInput): string {
  return [
    `From: "Dr. Alice Example" <${m.from}>`,
    `To: ${m.to}`,
    `Subject: ${m.subject}`,
    ...(m.messageId ? [`Message-ID: ${m.messageId}`] : []),
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    '--b1',
    'Content-Type: text/plain; charset=utf-8',
    '',
    'Patient: Jane Roe, DOB 03/14/1961, SSN 123-45-6789, MRN 55512345.',
    `Diagnosis: type 2 diabetes mellitus; HbA1c 8.1%. ${m.bodyMarker}`,
    '',
    '--b1',
    `Content-Type: ${m.attachmentType}; name="${m.attachmentName}"`,
    `Content-Disposition: attachment; filename="${m.attachmentName}"`,
    'Content-Transfer-Encoding: base64',
    '',
    m.attachment.toString('base64').replace(/.{76}/g, '$&\r\n'),
    '--b1--',
    '',
  ].join('\r\n');
}
