/**
 * The daemon and admin.*: with tls.generateDevCerts the console's missing
 * certificate is created and the listener answers over HTTPS with it
 * (checked against the development CA it wrote), with the security
 * headers; admin.enabled without a certificate is a config error that names
 * the key and the fix.
 */
import { readFile } from 'node:fs/promises';
import { request } from 'node:https';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, setupGateway, startGateway, type RunningGateway, type TestSetup } from '../helpers/gateway.js';

let setup: TestSetup;
let gw: RunningGateway | undefined;

beforeAll(async () => {
  setup = await setupGateway();
}, 60_000);

afterAll(async () => {
  await gw?.stop();
  await setup?.cleanup();
});

function get(port: number, path: string, ca: Buffer): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, ca, servername: 'localhost' }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString('utf8')));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('the console listener in the daemon', () => {
  it('admin.enabled without certFile/keyFile is refused with the fix', async () => {
    await setup.writeConfig({ extra: { admin: { enabled: true } } });
    const r = await runCli(['-c', setup.configPath, 'config', 'check']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain('admin.certFile');
    expect(r.stderr).toContain('tls.generateDevCerts');
  });

  it('creates a development certificate when asked, and serves the sign-in page over HTTPS', async () => {
    const certFile = join(setup.dir, 'console', 'console.crt');
    const keyFile = join(setup.dir, 'console', 'console.key');
    await setup.writeConfig({
      extra: { tls: { trustedCaFiles: [join(setup.dir, 'certs', 'ca.crt')], generateDevCerts: true }, admin: { enabled: true, listen: { host: '127.0.0.1', port: 0 }, certFile, keyFile } },
    });
    gw = await startGateway(setup.configPath);
    const created = gw.logLines().find((l) => l.event === 'DEV_CERT_CREATED' && l.listener === 'console');
    expect(created).toBeDefined();
    const listening = await gw.waitForEvent('CONSOLE_LISTENING');
    const ca = await readFile(String(created?.caCertFile));
    const r = await get(Number(listening.port), '/sign-in', ca);
    expect(r.status).toBe(200);
    expect(r.body).toContain('autocomplete="one-time-code"');
    expect(r.headers['strict-transport-security']).toBe('max-age=31536000');
    expect(r.headers['cache-control']).toBe('no-store');
    expect(String(r.headers['set-cookie'])).toContain('__Host-sealgate_console_pre=');
  }, 60_000);
});
