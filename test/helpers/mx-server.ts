/**
 * A recipient MX for delivery tests: a real SMTP server (smtp-server) on a
 * loopback address, with STARTTLS from the test CA, that records what it
 * receives and can be told how to answer each recipient.
 */
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerAddress, type SMTPServerSession } from 'smtp-server';

export interface ReceivedRecipient {
  readonly address: string;
  readonly notify?: string[] | undefined;
  readonly orcpt?: string | undefined;
}

export interface ReceivedMessage {
  readonly from: string;
  readonly to: readonly ReceivedRecipient[];
  readonly body: Buffer;
  readonly secure: boolean;
  readonly tlsVersion?: string | undefined;
  readonly sessionId: string;
  /** AUTH user of the session, if any. */
  readonly user?: string | undefined;
  /** Subject CN of the client certificate the sender presented (requestClientCert), if any. */
  readonly clientCertCn?: string | undefined;
}

/** Answer for a recipient: undefined accepts it; otherwise [code, text with enhanced code]. */
export type RcptBehaviour = (address: string, attempt: number) => [number, string] | undefined;

export interface MxServer {
  readonly ip: string;
  readonly port: number;
  readonly received: ReceivedMessage[];
  /** RCPT attempts per address. */
  readonly rcptAttempts: Map<string, number>;
  connections: number;
  /** Most sessions open at the same time. */
  readonly maxConcurrent: number;
  /** Most messages being received at the same time (from DATA to its reply): attempts in progress, whatever sessions idle. */
  readonly maxConcurrentData: number;
  close(): Promise<void>;
}

export interface MxServerOptions {
  readonly ip: string;
  readonly port: number;
  readonly tls?: { readonly key: string; readonly cert: string } | undefined;
  readonly rcpt?: RcptBehaviour;
  /** Answer every MAIL FROM with this (e.g. a 4xx) instead of accepting. */
  readonly mailFrom?: [number, string] | undefined;
  /** Hold each DATA reply this long (to make concurrency observable). */
  readonly dataDelayMs?: number | undefined;
  /** Ask the client for a TLS certificate (not required, not verified) and record its subject CN. */
  readonly requestClientCert?: boolean | undefined;
  /** Require AUTH PLAIN/LOGIN with these credentials (only after STARTTLS). */
  readonly auth?: { readonly user: string; readonly pass: string } | undefined;
}

function smtpError(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

export async function startMxServer(options: MxServerOptions): Promise<MxServer> {
  const received: ReceivedMessage[] = [];
  const rcptAttempts = new Map<string, number>();
  const state = { connections: 0, open: 0, maxConcurrent: 0, inData: 0, maxConcurrentData: 0 };
  const clientCerts = new Map<string, string>();
  const server = new SMTPServer({
    name: `mx-${options.ip}`,
    secure: false,
    disabledCommands: [...(options.auth ? [] : ['AUTH']), ...(options.tls ? [] : ['STARTTLS'])],
    authMethods: ['PLAIN', 'LOGIN'],
    authOptional: !options.auth,
    onAuth(auth, _session, cb) {
      if (options.auth && auth.username === options.auth.user && auth.password === options.auth.pass) return cb(null, { user: auth.username });
      cb(smtpError(535, '5.7.8 Authentication failed'));
    },
    hideDSN: false,
    hideENHANCEDSTATUSCODES: false,
    hideREQUIRETLS: false,
    logger: false,
    disableReverseLookup: true,
    ...(options.tls ? { key: options.tls.key, cert: options.tls.cert } : {}),
    ...(options.requestClientCert ? { requestCert: true, rejectUnauthorized: false } : {}),
    onSecure(socket, session, cb) {
      const cn = (socket as TLSSocket).getPeerCertificate?.()?.subject?.CN;
      if (typeof cn === 'string') clientCerts.set(session.id, cn);
      cb();
    },
    onConnect(_session, cb) {
      state.connections++;
      state.open++;
      state.maxConcurrent = Math.max(state.maxConcurrent, state.open);
      cb();
    },
    onClose() {
      state.open--;
    },
    onMailFrom(_address: SMTPServerAddress, _session: SMTPServerSession, cb) {
      if (options.mailFrom) return cb(smtpError(options.mailFrom[0], options.mailFrom[1]));
      cb();
    },
    onRcptTo(address: SMTPServerAddress, _session: SMTPServerSession, cb) {
      const n = (rcptAttempts.get(address.address) ?? 0) + 1;
      rcptAttempts.set(address.address, n);
      const answer = options.rcpt?.(address.address, n);
      if (answer) return cb(smtpError(answer[0], answer[1]));
      cb();
    },
    onData(stream, session, cb) {
      state.inData++;
      state.maxConcurrentData = Math.max(state.maxConcurrentData, state.inData);
      const reply = (): void => {
        state.inData--;
        cb(null, 'Ok: stored');
      };
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const tlsOptions = session.tlsOptions as { version?: string } | false;
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => {
            const dsn = (r as { dsn?: { notify?: string[]; orcpt?: string } }).dsn;
            return { address: r.address, notify: dsn?.notify, orcpt: dsn?.orcpt };
          }),
          body: Buffer.concat(chunks),
          secure: session.secure,
          tlsVersion: tlsOptions ? tlsOptions.version : undefined,
          sessionId: session.id,
          user: typeof session.user === 'string' ? session.user : undefined,
          clientCertCn: clientCerts.get(session.id),
        });
        if (options.dataDelayMs) setTimeout(reply, options.dataDelayMs);
        else reply();
      });
    },
  });
  // a client that goes away mid-session (a sender killed with SIGKILL, a reset during the TLS handshake) is the
  // client's problem, not the MX's: smtp-server reports it on the server, where an unheard 'error' would throw
  server.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(options.port, options.ip, () => resolve());
  });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  return {
    ip: options.ip,
    port,
    received,
    rcptAttempts,
    get connections() {
      return state.connections;
    },
    set connections(v: number) {
      state.connections = v;
    },
    get maxConcurrentData() {
      return state.maxConcurrentData;
    },
    get maxConcurrent() {
      return state.maxConcurrent;
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
