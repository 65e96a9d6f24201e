/**
 * Passkeys (docs/portal.md, "Passkeys"):
 *
 *   GET  /static/passkey.js, /static/simplewebauthn-browser.js   the scripts (passkey-script.ts)
 *   GET  /m/:token/passkey                   the set-up page (signed in only)
 *   POST /m/:token/passkey/register/options  registration options (session + its CSRF token)
 *   POST /m/:token/passkey/register/verify   the browser's answer: store the passkey, audit
 *   POST /m/:token/passkey/login/options     sign-in options for the link's recipient (pre-session CSRF)
 *   POST /m/:token/passkey/login/verify      the browser's answer: a session (method passkey)
 *
 * The four POST routes take JSON only (a parser in their own scope, bounded
 * like the forms by limits.bodyLimit), the CSRF token in the X-CSRF-Token
 * header, and answer JSON — errors as `{ "error": "<sentence to show>" }`.
 * Challenges are single use, five minutes, bound to the session
 * (registration) or to the pre-session cookie and the link (sign-in).
 * A passkey opens only messages to its own address: the credential must
 * belong to the link's recipient, whatever the browser was offered.
 * Nothing secret is audited or logged: a credential appears only as the
 * SHA-256 of its id.
 */
import { createHash } from 'node:crypto';
import type { AuthenticationResponseJSON, AuthenticatorTransport, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isSealgateError } from '../../errors.js';
import { credentialDigest, CREDENTIAL_ID_PATTERN, MAX_PASSKEYS_PER_RECIPIENT, passkeyUserId } from '../passkey-store.js';
import { checkPreSessionToken, SECRET_PATTERN, sameSecret } from './csrf.js';
import { audit, cookieOptions, linkState, type LinkState, type PortalContext, remoteIp, sendPage } from './context.js';
import { errorPage } from './pages.js';
import { passkeyPage, passkeySignInBlock } from './pages-passkey.js';
import { CHALLENGE_TTL_MS } from './passkey-challenges.js';
import { PASSKEY_ALGORITHMS, type Passkeys, type RelyingParty, USER_VERIFICATION } from './passkeys.js';
import type { PortalSession } from './sessions.js';

/** @simplewebauthn/server, loaded at the first passkey ceremony: over half a second of every portal's start-up otherwise. */
const webauthn = () => import('@simplewebauthn/server');
import type { PortalStrings } from './strings.js';

type TokenRequest = FastifyRequest<{ Params: { token: string } }>;
type Live = Extract<LinkState, { kind: 'live' }>;

/** Where the CSRF token of the JSON routes travels. */
export const CSRF_HEADER = 'x-csrf-token';

/** Why a passkey sign-in failed, as audited (portal:passkey_failed). */
export type PasskeyFailure = 'challenge' | 'malformed' | 'unknown' | 'other-recipient' | 'verification';

function json(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return reply.code(status).type('application/json; charset=utf-8').send(JSON.stringify(body));
}

function jsonError(reply: FastifyReply, status: number, message: string): FastifyReply {
  return json(reply, status, { error: message });
}

/** The sentence the page shows for an error status of these routes. */
function statusMessage(s: PortalStrings, status: number): string {
  if (status === 403) return s.passkeyForbidden;
  if (status === 404) return s.invalidTitle;
  if (status === 429 || status === 503) return s.errors[status].body;
  return s.passkeySignInFailed;
}

/** The live link of a JSON route, or undefined when an error was sent. */
async function liveJson(ctx: PortalContext, request: TokenRequest, reply: FastifyReply, now: number): Promise<Live | undefined> {
  const state = await linkState(ctx, request.params.token, now);
  const s = ctx.shell.s;
  if (state.kind === 'invalid') {
    jsonError(reply, 404, s.invalidTitle);
    return undefined;
  }
  if (state.kind === 'gone') {
    jsonError(reply, 410, state.gone === 'withdrawn' ? s.withdrawnTitle : state.gone === 'expired' ? s.expiredTitle : s.unavailableTitle);
    return undefined;
  }
  return state;
}

/** The sign-in page's passkey block and script, when passkeys are on and the link's recipient has one. */
export async function passkeySignIn(ctx: PortalContext, recipient: string, token: string, csrf: string): Promise<{ html: string; script: string } | undefined> {
  const passkeys = ctx.passkeys;
  if (!passkeys?.rp) return undefined;
  if ((await passkeys.store.count(recipient)) === 0) return undefined;
  return { html: passkeySignInBlock(ctx.shell, { token, csrf }), script: passkeys.scripts.glue.href };
}

const registerBinding = (session: PortalSession) => `register:${session.hash}`;
const loginBinding = (preCookie: string, linkHash: string) => `login:${createHash('sha256').update(preCookie, 'utf8').digest('hex')}:${linkHash}`;

function isResponseShape(body: unknown): body is { id: string; response: Record<string, unknown> } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const b = body as Record<string, unknown>;
  return typeof b.id === 'string' && CREDENTIAL_ID_PATTERN.test(b.id) && typeof b.response === 'object' && b.response !== null;
}

export function registerPasskeyRoutes(app: FastifyInstance, ctx: PortalContext, passkeys: Passkeys): void {
  const { library, glue } = passkeys.scripts;
  for (const script of [library, glue]) {
    app.route({
      method: ['GET', 'HEAD'],
      url: script.href.split('?')[0] as string,
      handler: (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=31536000, immutable').send(script.body),
    });
  }

  const postLimit = { rateLimit: { max: ctx.limits.postsPerMinute, timeWindow: 60_000 } };
  const s = ctx.shell.s;

  app.get<{ Params: { token: string } }>('/m/:token/passkey', async (request, reply) => {
    const now = ctx.now();
    const rp = passkeys.rp;
    if (!rp) return sendPage(ctx, reply, 404, errorPage(ctx.shell, 404));
    const state = await linkState(ctx, request.params.token, now);
    if (state.kind !== 'live') return reply.code(303).header('location', `/m/${request.params.token}`).send('');
    const { match } = state;
    const session = await ctx.sessions.find(request.cookies[ctx.cookies.session], match.depositId, match.recipient.address, now);
    if (!session) return reply.code(303).header('location', `/m/${request.params.token}`).send('');
    const existing = await passkeys.store.count(match.recipient.address);
    const html = passkeyPage(ctx.shell, { token: request.params.token, csrf: session.csrfToken, address: match.recipient.address, existing, script: glue.href });
    return sendPage(ctx, reply, 200, html, { script: true });
  });

  void app.register(async (scope) => {
    // JSON, and only JSON, for these routes: the rest of the portal still parses only URL-encoded forms
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('application/json', { parseAs: 'string', bodyLimit: ctx.limits.bodyLimit }, (_request, body, done) => {
      const text = typeof body === 'string' ? body : body.toString('utf8');
      if (text.trim() === '') return done(null, {});
      try {
        done(null, JSON.parse(text) as unknown);
      } catch {
        done(Object.assign(new Error('malformed JSON'), { statusCode: 400 }), undefined);
      }
    });
    scope.setErrorHandler((err: FastifyError, _request: FastifyRequest, reply: FastifyReply) => {
      const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 600 ? err.statusCode : 500;
      if (status >= 500) {
        ctx.log.error(
          { event: 'PORTAL_REQUEST_FAILED', reason: isSealgateError(err) ? err.code : undefined, errno: typeof err.code === 'string' && !isSealgateError(err) ? err.code.slice(0, 64) : undefined },
          'portal request failed',
        );
        return jsonError(reply, 500, s.errors[500].body);
      }
      return jsonError(reply, status, statusMessage(s, status));
    });

    /** The relying party and the live link, or undefined when an error was sent. */
    const begin = async (request: TokenRequest, reply: FastifyReply, now: number): Promise<{ rp: RelyingParty; live: Live } | undefined> => {
      const rp = passkeys.rp;
      if (!rp) {
        jsonError(reply, 404, s.errors[404].title);
        return undefined;
      }
      const live = await liveJson(ctx, request, reply, now);
      return live ? { rp, live } : undefined;
    };

    /** Registration: the session of this link with the right CSRF header, or undefined when 403 was sent. */
    const signedIn = async (request: TokenRequest, reply: FastifyReply, live: Live, now: number): Promise<PortalSession | undefined> => {
      const session = await ctx.sessions.find(request.cookies[ctx.cookies.session], live.match.depositId, live.match.recipient.address, now);
      if (session && sameSecret(request.headers[CSRF_HEADER], session.csrfToken)) return session;
      jsonError(reply, 403, s.passkeyForbidden);
      return undefined;
    };

    /** Sign-in: the pre-session cookie, when the CSRF header was made for it on this link; otherwise 403 was sent. */
    const preSession = (request: TokenRequest, reply: FastifyReply, live: Live, now: number): string | undefined => {
      const pre = request.cookies[ctx.cookies.pre];
      if (pre !== undefined && SECRET_PATTERN.test(pre) && checkPreSessionToken(ctx.csrfKey, pre, live.linkHash, request.headers[CSRF_HEADER], now)) return pre;
      jsonError(reply, 403, s.passkeyForbidden);
      return undefined;
    };

    /** The steps every registration route starts with: relying party, live link, signed-in session with CSRF. */
    const registering = async (request: TokenRequest, reply: FastifyReply, now: number): Promise<{ rp: RelyingParty; live: Live; session: PortalSession } | undefined> => {
      const started = await begin(request, reply, now);
      const session = started && (await signedIn(request, reply, started.live, now));
      return started && session ? { ...started, session } : undefined;
    };

    /** The steps every passkey sign-in route starts with: relying party, live link, pre-session with CSRF. */
    const signingIn = async (request: TokenRequest, reply: FastifyReply, now: number): Promise<{ rp: RelyingParty; live: Live; pre: string } | undefined> => {
      const started = await begin(request, reply, now);
      const pre = started && preSession(request, reply, started.live, now);
      return started && pre !== undefined ? { ...started, pre } : undefined;
    };

    scope.post<{ Params: { token: string } }>('/m/:token/passkey/register/options', { config: postLimit }, async (request, reply) => {
      const now = ctx.now();
      const started = await registering(request, reply, now);
      if (!started) return reply;
      const { rp, session } = started;
      const recipient = session.recipient;
      const existing = await passkeys.store.listFor(recipient);
      if (existing.length >= MAX_PASSKEYS_PER_RECIPIENT) return jsonError(reply, 400, s.passkeyFull);
      const options = await (await webauthn()).generateRegistrationOptions({
        rpName: rp.rpName,
        rpID: rp.rpID,
        userName: recipient,
        userDisplayName: recipient,
        userID: passkeyUserId(passkeys.userKey, recipient),
        challenge: new Uint8Array(passkeys.random(32)),
        timeout: CHALLENGE_TTL_MS,
        attestationType: 'none',
        excludeCredentials: existing.map((p) => ({ id: p.credentialId, transports: [...p.transports] })),
        authenticatorSelection: { residentKey: 'preferred', userVerification: USER_VERIFICATION },
        supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
      });
      await passkeys.challenges.issue(registerBinding(session), options.challenge, now);
      return json(reply, 200, options);
    });

    scope.post<{ Params: { token: string } }>('/m/:token/passkey/register/verify', { config: postLimit }, async (request, reply) => {
      const now = ctx.now();
      const started = await registering(request, reply, now);
      if (!started) return reply;
      const { rp, session } = started;
      const challenge = await passkeys.challenges.take(registerBinding(session), now);
      if (challenge === undefined) return jsonError(reply, 400, s.passkeyExpired);
      if (!isResponseShape(request.body)) return jsonError(reply, 400, s.passkeyFailed);
      let info;
      try {
        const verification = await (await webauthn()).verifyRegistrationResponse({
          response: request.body as unknown as RegistrationResponseJSON,
          expectedChallenge: challenge,
          expectedOrigin: rp.origin,
          expectedRPID: rp.rpID,
          requireUserVerification: true,
          supportedAlgorithmIDs: PASSKEY_ALGORITHMS,
        });
        info = verification.verified ? verification.registrationInfo : undefined;
      } catch {
        // the library names what was wrong (origin, challenge, signature…); the recipient needs only "try again"
        info = undefined;
      }
      if (!info || !CREDENTIAL_ID_PATTERN.test(info.credential.id)) return jsonError(reply, 400, s.passkeyFailed);
      const { credential } = info;
      const added = await passkeys.store.add({
        credentialId: credential.id,
        recipient: session.recipient,
        publicKey: credential.publicKey,
        counter: credential.counter,
        transports: credential.transports ?? [],
        now,
      });
      if (added.outcome === 'full') return jsonError(reply, 400, s.passkeyFull);
      if (added.outcome === 'taken') return jsonError(reply, 400, s.passkeyFailed);
      if (added.outcome === 'added') {
        await audit(ctx, { type: 'portal:passkey_registered', data: { recipient: session.recipient, remoteIp: remoteIp(request), credential: credentialDigest(credential.id) } }, now);
        ctx.metrics?.inc('sealgate_portal_passkey_registrations_total');
      }
      return json(reply, 200, { ok: true });
    });

    scope.post<{ Params: { token: string } }>('/m/:token/passkey/login/options', { config: postLimit }, async (request, reply) => {
      const now = ctx.now();
      const started = await signingIn(request, reply, now);
      if (!started) return reply;
      const { rp, live, pre } = started;
      const list = await passkeys.store.listFor(live.match.recipient.address);
      if (list.length === 0) return jsonError(reply, 400, s.passkeyNone);
      const options = await (await webauthn()).generateAuthenticationOptions({
        rpID: rp.rpID,
        allowCredentials: list.map((p) => ({ id: p.credentialId, transports: p.transports as AuthenticatorTransport[] })),
        challenge: new Uint8Array(passkeys.random(32)),
        timeout: CHALLENGE_TTL_MS,
        userVerification: USER_VERIFICATION,
      });
      await passkeys.challenges.issue(loginBinding(pre, live.linkHash), options.challenge, now);
      return json(reply, 200, options);
    });

    scope.post<{ Params: { token: string } }>('/m/:token/passkey/login/verify', { config: postLimit }, async (request, reply) => {
      const now = ctx.now();
      const started = await signingIn(request, reply, now);
      if (!started) return reply;
      const { rp, live, pre } = started;
      const { match } = live;
      const recipient = match.recipient.address;
      const ip = remoteIp(request);

      const fail = async (reason: PasskeyFailure, status: number, message: string): Promise<FastifyReply> => {
        await audit(ctx, { type: 'portal:passkey_failed', data: { depositId: match.depositId, recipient, remoteIp: ip, reason } }, now);
        ctx.metrics?.inc('sealgate_portal_passkey_sign_ins_total', { outcome: reason });
        return jsonError(reply, status, message);
      };

      const challenge = await passkeys.challenges.take(loginBinding(pre, live.linkHash), now);
      if (challenge === undefined) return fail('challenge', 400, s.passkeyExpired);
      const body = request.body;
      if (!isResponseShape(body)) return fail('malformed', 400, s.passkeySignInFailed);
      const stored = await passkeys.store.find(body.id);
      if (!stored) return fail('unknown', 401, s.passkeyNotForThis);
      // a passkey opens the messages to its own address, never another address's
      if (stored.recipient !== recipient.toLowerCase()) return fail('other-recipient', 401, s.passkeyNotForThis);
      let newCounter: number | undefined;
      try {
        const verification = await (await webauthn()).verifyAuthenticationResponse({
          response: body as unknown as AuthenticationResponseJSON,
          expectedChallenge: challenge,
          expectedOrigin: rp.origin,
          expectedRPID: rp.rpID,
          credential: { id: stored.credentialId, publicKey: new Uint8Array(stored.publicKey), counter: stored.counter, transports: stored.transports as AuthenticatorTransport[] },
          requireUserVerification: true,
        });
        newCounter = verification.verified ? verification.authenticationInfo.newCounter : undefined;
      } catch {
        // wrong signature, origin, RP ID or challenge, no user verification, or a counter that went back (a cloned authenticator)
        newCounter = undefined;
      }
      if (newCounter === undefined) return fail('verification', 401, s.passkeySignInFailed);

      // the counter moves forward once: the same counter shown to two nodes at once (a clone, a replay) signs in once
      if (!(await passkeys.store.markUsed(stored.credentialId, newCounter, now))) return fail('verification', 401, s.passkeySignInFailed);
      const { cookieValue } = await ctx.sessions.create({ depositId: match.depositId, recipient, method: 'passkey', remoteIp: ip, now });
      await audit(ctx, { type: 'portal:signed_in', data: { depositId: match.depositId, recipient, remoteIp: ip, method: 'passkey' } }, now);
      ctx.metrics?.inc('sealgate_portal_passkey_sign_ins_total', { outcome: 'ok' });
      reply.setCookie(ctx.cookies.session, cookieValue, cookieOptions(ctx));
      reply.clearCookie(ctx.cookies.pre, cookieOptions(ctx));
      return json(reply, 200, { redirect: `/m/${request.params.token}` });
    });
  });
}
