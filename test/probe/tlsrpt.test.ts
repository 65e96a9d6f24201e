import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { buildTlsRptReport, classifyTlsFailure, encodeTlsRptReport, parseTlsRptTxt, utcDay, type CountRow, type TlsResultType } from '../../src/probe/tlsrpt.js';

describe('classifyTlsFailure', () => {
  it.each<[string, TlsResultType]>([
    ["TLS required but not established: ETLS: Hostname/IP does not match certificate's altnames: Host: mx.a.test. is not in the cert's altnames", 'certificate-host-mismatch'],
    ['TLS required but not established: ETLS: certificate has expired', 'certificate-expired'],
    ['TLS required but not established: ETLS: self-signed certificate', 'certificate-not-trusted'],
    ['TLS required but not established: ETLS: unable to verify the first certificate', 'certificate-not-trusted'],
    ['TLS required but not established: 500 Error: command not recognized', 'validation-failure'],
    ['STARTTLS required but the session is not encrypted', 'starttls-not-supported'],
    ['TLS required but not established: ETLS: Error upgrading connection with STARTTLS', 'starttls-not-supported'],
    ['DANE required but mx.example.net has no usable DNSSEC-authenticated TLSA records', 'dane-required'],
    ['TLS required but not established: DANE verification failed: 3 1 1: the server certificate does not match', 'validation-failure'],
    ['TLS required but not established: the server refused STARTTLS: command not recognized', 'starttls-not-supported'],
  ])('%s', (text, expected) => {
    expect(classifyTlsFailure(text)).toBe(expected);
  });
});

describe('utcDay', () => {
  it('is the UTC date', () => {
    expect(utcDay(Date.UTC(2026, 10, 24, 23, 59, 59))).toBe('2026-11-24');
    expect(utcDay(Date.UTC(2026, 10, 25, 0, 0, 0))).toBe('2026-11-25');
  });
});

describe('buildTlsRptReport', () => {
  const rows: CountRow[] = [
    { policy_type: 'no-policy-found', mx: 'mx1.a.test', result_type: 'success', count: 40 },
    { policy_type: 'no-policy-found', mx: 'mx2.a.test', result_type: 'certificate-host-mismatch', count: 3 },
    { policy_type: 'sts', mx: 'mx1.a.test', result_type: 'success', count: 7 },
  ];
  it('summarises per policy with failure details (RFC 8460 §4.4)', () => {
    const report = buildTlsRptReport({ domain: 'a.test', day: '2026-11-24', organization: 'Sealgate at gw.test', contact: 'postmaster@gw.test', reportId: '2026-11-24.a.test@gw.test', rows, policyStrings: { sts: ['version: STSv1', 'mode: enforce'] } });
    expect(report).toEqual({
      'organization-name': 'Sealgate at gw.test',
      'date-range': { 'start-datetime': '2026-11-24T00:00:00Z', 'end-datetime': '2026-11-24T23:59:59Z' },
      'contact-info': 'postmaster@gw.test',
      'report-id': '2026-11-24.a.test@gw.test',
      policies: [
        {
          policy: { 'policy-type': 'no-policy-found', 'policy-domain': 'a.test', 'mx-host': ['mx1.a.test', 'mx2.a.test'] },
          summary: { 'total-successful-session-count': 40, 'total-failure-session-count': 3 },
          'failure-details': [{ 'result-type': 'certificate-host-mismatch', 'receiving-mx-hostname': 'mx2.a.test', 'failed-session-count': 3 }],
        },
        {
          policy: { 'policy-type': 'sts', 'policy-string': ['version: STSv1', 'mode: enforce'], 'policy-domain': 'a.test', 'mx-host': ['mx1.a.test'] },
          summary: { 'total-successful-session-count': 7, 'total-failure-session-count': 0 },
        },
      ],
    });
    expect(JSON.parse(gunzipSync(encodeTlsRptReport(report)).toString('utf8'))).toEqual(report);
  });
});

describe('parseTlsRptTxt', () => {
  it.each<[string[][], { mailto: string[]; https: string[] } | undefined]>([
    [[['v=TLSRPTv1; rua=mailto:tlsrpt@a.test']], { mailto: ['tlsrpt@a.test'], https: [] }],
    [[['v=TLSRPTv1;rua=mailto:r1@a.test,https://report.a.test/tlsrpt']], { mailto: ['r1@a.test'], https: ['https://report.a.test/tlsrpt'] }],
    [[['v=TLSRPTv1; ', 'rua=mailto:split@a.test']], { mailto: ['split@a.test'], https: [] }],
    [[['v=spf1 -all']], undefined],
    [[['v=TLSRPTv1; rua=mailto:a@a.test'], ['v=TLSRPTv1; rua=mailto:b@a.test']], undefined],
    [[['v=TLSRPTv1; ruf=mailto:a@a.test']], undefined],
  ])('%j', (records, expected) => {
    expect(parseTlsRptTxt(records)).toEqual(expected);
  });
});
