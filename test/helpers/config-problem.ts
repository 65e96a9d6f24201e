/** For config validation tests: the smallest valid config, and the one problem a config is refused with. */
import { validateConfig } from '../../src/config/load.js';
import { isSealgateError } from '../../src/errors.js';

/** One cleartext listener and one connector: what the schema needs, everything else default. */
export const MINIMAL_CONFIG = {
  smtp: { listeners: [{ name: 'relay', tls: 'none' }] },
  connectors: [{ name: 'c', allowIps: ['127.0.0.0/8'], senderDomains: ['example.com'] }],
};

/** The SG_CONFIG_INVALID message `raw` is refused with; throws when it is accepted. */
export function problemFor(raw: unknown): string {
  try {
    validateConfig(raw, 'test.yaml');
  } catch (err) {
    if (isSealgateError(err, 'SG_CONFIG_INVALID')) return err.message;
    throw err;
  }
  throw new Error('config was accepted');
}
