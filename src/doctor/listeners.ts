/**
 * Can each listener bind? A free port is bound and released at once; a port
 * in use answering an SMTP greeting from this gateway's hostname is the
 * running gateway (fine); anything else in the way is a failure.
 */
import { createConnection, createServer } from 'node:net';
import { fail, ok, warn, type DoctorCheck } from './check.js';

export interface ListenerSpec {
  readonly label: string;
  readonly host: string;
  readonly port: number;
  readonly smtp: boolean;
}

function tryBind(host: string, port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    server.listen(port, host, () => server.close(() => resolve(undefined)));
  });
}

/** The first line the port sends within `timeoutMs`, or undefined. */
function greeting(host: string, port: number, timeoutMs = 2000): Promise<string | undefined> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port });
    let data = '';
    const done = (v: string | undefined): void => {
      socket.destroy();
      resolve(v);
    };
    socket.setTimeout(timeoutMs, () => done(undefined));
    socket.on('error', () => done(undefined));
    socket.on('data', (d: Buffer) => {
      data += d.toString('latin1');
      if (data.includes('\n') || data.length > 512) done(data.split(/\r?\n/)[0]);
    });
  });
}

export async function checkListener(spec: ListenerSpec, gatewayHost: string): Promise<DoctorCheck> {
  const name = `listener ${spec.label}`;
  if (spec.port === 0) return ok(name, `${spec.host}: port 0 (a free port is chosen at start)`);
  const error = await tryBind(spec.host, spec.port);
  if (error === undefined) return ok(name, `${spec.host}:${spec.port} can be bound`);
  if (error === 'EADDRINUSE') {
    if (spec.smtp) {
      const line = await greeting(spec.host, spec.port);
      if (line?.startsWith('220 ') && line.includes(gatewayHost)) return ok(name, `${spec.host}:${spec.port} is in use by this gateway (greets as ${gatewayHost})`);
      return fail(name, `${spec.host}:${spec.port} is in use by another program${line ? ` (greets "${line.slice(0, 80)}")` : ''}`, 'stop the other program (e.g. the system\'s own MTA: systemctl disable --now postfix) or choose another port');
    }
    return warn(name, `${spec.host}:${spec.port} is in use (the running gateway, or another program)`, 'if the gateway is not running, stop the other program or choose another port');
  }
  if (error === 'EACCES') return fail(name, `${spec.host}:${spec.port}: permission denied`, 'ports below 1024 need CAP_NET_BIND_SERVICE (systemd: AmbientCapabilities=CAP_NET_BIND_SERVICE) or a higher port');
  if (error === 'EADDRNOTAVAIL') return fail(name, `${spec.host} is not an address of this machine`, 'use one of its addresses, or 0.0.0.0');
  return fail(name, `${spec.host}:${spec.port}: ${error}`, 'check the address and port');
}
