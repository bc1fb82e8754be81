// `tessera token inspect`: why a user access token is or is not accepted, one sentence per check. The token and its
// signature are never printed: only the header's kid and the claims a person needs to act on.
import { createPublicKey, type JsonWebKey, verify } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import {
  type AuthorizeContext,
  authorize,
  capabilityRow,
  decodeJwt,
  isCapability,
  isRoomRole,
  isTesseraError,
  parseClaims,
  type RoomRole,
  scopesOf,
  type TokenClaims,
  type TokenScope,
  TesseraError,
} from '@tessera/core';
import { type AdminTarget, optionalTarget, sendRequest, TARGET_OPTIONS, wireError } from './admin-request.js';

/** Usage of `tessera token inspect`. */
export const TOKEN_USAGE = `  token inspect <jwt|-> why a user access token is or is not accepted (- reads it from stdin; never printed)
      --token-file <file>        read the token from a file instead
      --capability <name>        may it do this (chat.thread.create, voip.call.joinInRoom, …); names the scope that would
      --room <roomId>            for a *InRoom capability: look the identity's invitation and role up (Rooms API)
      --room-role <role>         or state the room role (Presenter, Attendee, Consumer, Collaborator) instead
      --at <time>                judge expiry at this instant (ISO-8601, or a duration ahead: 30m, 2h, 1d)
      --endpoint <url> | --connection-string … (any key; the verifier key is enough) to verify and introspect`;

/** One check of {@link inspectToken}: `ok` undefined when it could not be made. */
export interface InspectCheck {
  readonly check: 'decode' | 'issuer' | 'audience' | 'key' | 'signature' | 'times' | 'revocation' | 'capability';
  readonly ok: boolean | undefined;
  /** The Tessera error code of a failed check. */
  readonly code?: string;
  readonly sentence: string;
}

/** What `tessera token inspect --json` prints. */
export interface InspectReport {
  readonly accepted: boolean;
  readonly judgedAt: string;
  readonly header?: { readonly alg: string; readonly kid: string | undefined };
  readonly claims?: {
    readonly sub: string;
    readonly iss: string;
    readonly aud: string;
    readonly scopes: readonly string[];
    readonly issuedAt: string;
    readonly notBefore: string;
    readonly expiresAt: string;
    readonly jti: string;
    readonly tsv: number;
    readonly mintedWithKey: string | undefined;
  };
  readonly checks: readonly InspectCheck[];
}

const iso = (seconds: number) => new Date(seconds * 1000).toISOString();

function span(ms: number): string {
  const minutes = Math.round(Math.abs(ms) / 60_000);
  if (minutes < 60) return `${minutes} min`;
  const hours = Math.floor(minutes / 60);
  return minutes % 60 === 0 ? `${hours} h` : `${hours} h ${minutes % 60} min`;
}

const AHEAD: Readonly<Record<string, number>> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `--at`: an ISO-8601 instant, or a duration ahead of now (`90m`, `2d`). */
export function parseAt(value: string | undefined, now: number): number {
  if (value === undefined) return now;
  const ahead = /^(\d{1,9})([smhd])$/.exec(value);
  if (ahead !== null) return now + Number(ahead[1]) * (AHEAD[ahead[2] ?? 's'] ?? 1000);
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'Invalid --at: give an ISO-8601 instant or a duration like 90m, 2d.', {
      target: 'at',
    });
  }
  return ms;
}

interface Discovery {
  readonly issuer?: string;
  readonly tessera_audience?: string;
}

/** Options of {@link inspectToken}. */
export interface InspectOptions {
  readonly token: string;
  /** The server to verify against; undefined: decode and judge times and scopes only. */
  readonly target: AdminTarget | undefined;
  readonly atMs: number;
  readonly capability?: string | undefined;
  readonly roomId?: string | undefined;
  readonly roomRole?: RoomRole | undefined;
}

/** Decodes, verifies against the server's JWKS, introspects and authorizes; never throws for a bad token. */
export async function inspectToken(options: InspectOptions): Promise<InspectReport> {
  const checks: InspectCheck[] = [];
  const judgedAt = new Date(options.atMs).toISOString();
  let decoded: ReturnType<typeof decodeJwt>;
  let claims: TokenClaims;
  try {
    decoded = decodeJwt(options.token.trim());
    claims = parseClaims(decoded.payload);
  } catch (error) {
    const code = isTesseraError(error) ? error.code : 'ERR_TOKEN_MALFORMED';
    checks.push({
      check: 'decode',
      ok: false,
      code,
      sentence: `Not accepted: this is not a well-formed Tessera user access token (${code}); copy the whole token, three base64url parts separated by dots.`,
    });
    return { accepted: false, judgedAt, checks };
  }
  const scopes = scopesOf(claims);
  const { target } = options;
  if (target === undefined) {
    checks.push({
      check: 'signature',
      ok: undefined,
      sentence:
        'Signature, issuer and revocation not checked: give --endpoint (or a connection string) of the server that issued it.',
    });
  } else {
    await serverChecks(target, decoded, claims, checks);
  }
  checks.push(timesCheck(claims, options.atMs));
  if (target !== undefined && checks.every((c) => c.ok !== false)) {
    checks.push(await revocationCheck(target, options.token.trim(), claims));
  }
  if (options.capability !== undefined) checks.push(await capabilityCheck(options, claims, scopes));
  return {
    accepted: checks.every((c) => c.ok !== false),
    judgedAt,
    header: { alg: decoded.header.alg, kid: decoded.header.kid },
    claims: {
      sub: claims.sub,
      iss: claims.iss,
      aud: claims.aud,
      scopes,
      issuedAt: iso(claims.iat),
      notBefore: iso(claims.nbf),
      expiresAt: iso(claims.exp),
      jti: claims.jti,
      tsv: claims.tsv,
      mintedWithKey: claims.akv,
    },
    checks,
  };
}

async function serverChecks(
  target: AdminTarget,
  decoded: ReturnType<typeof decodeJwt>,
  claims: TokenClaims,
  checks: InspectCheck[],
): Promise<void> {
  const discovery = (await sendRequest(target, 'GET', '/.well-known/openid-configuration', { anonymous: true }))
    .json as Discovery;
  if (discovery.issuer !== undefined && discovery.issuer !== claims.iss) {
    checks.push({
      check: 'issuer',
      ok: false,
      code: 'ERR_TOKEN_WRONG_ISSUER',
      sentence: `Not accepted: wrong issuer — it was issued by '${claims.iss}', but ${target.endpoint} issues as '${discovery.issuer}' (a token of another Tessera server or resource).`,
    });
  } else {
    checks.push({ check: 'issuer', ok: true, sentence: `Issuer '${claims.iss}' is this server's.` });
  }
  if (discovery.tessera_audience !== undefined && discovery.tessera_audience !== claims.aud) {
    checks.push({
      check: 'audience',
      ok: false,
      code: 'ERR_TOKEN_WRONG_AUDIENCE',
      sentence: `Not accepted: its audience '${claims.aud}' is not this server's '${discovery.tessera_audience}'.`,
    });
  }
  const jwks = (await sendRequest(target, 'GET', '/.well-known/jwks.json', { anonymous: true })).json;
  const keys = Array.isArray(jwks.keys) ? (jwks.keys as Array<JsonWebKey & { kid?: string }>) : [];
  const kid = decoded.header.kid;
  const jwk = keys.find((k) => k.kid === kid);
  if (jwk === undefined) {
    checks.push({
      check: 'key',
      ok: false,
      code: 'ERR_TOKEN_UNKNOWN_KEY',
      sentence: `Not accepted: signed by an unknown key — kid '${kid ?? '(none)'}' is not in ${target.endpoint}.well-known/jwks.json (${keys.length} keys there): a token of another server, or of a signing key dropped after rotation (tessera keys signing lists them).`,
    });
    return;
  }
  let valid = false;
  try {
    valid =
      decoded.header.alg === 'ES256' &&
      verify(
        'sha256',
        Buffer.from(decoded.signingInput),
        { key: createPublicKey({ key: jwk, format: 'jwk' }), dsaEncoding: 'ieee-p1363' },
        decoded.signature,
      );
  } catch {
    valid = false;
  }
  checks.push(
    valid
      ? { check: 'signature', ok: true, sentence: `Signature verifies with the server's key '${kid}'.` }
      : {
          check: 'signature',
          ok: false,
          code: 'ERR_TOKEN_BAD_SIGNATURE',
          sentence: `Not accepted: the signature does not verify with key '${kid}' — the token was altered or truncated.`,
        },
  );
}

function timesCheck(claims: TokenClaims, atMs: number): InspectCheck {
  if (atMs >= claims.exp * 1000) {
    return {
      check: 'times',
      ok: false,
      code: 'ERR_TOKEN_EXPIRED',
      sentence: `Not accepted: expired at ${iso(claims.exp)} (${span(atMs - claims.exp * 1000)} before ${new Date(atMs).toISOString()}); get a new one (tokens live 60–1440 minutes).`,
    };
  }
  if (atMs < claims.nbf * 1000) {
    return {
      check: 'times',
      ok: false,
      code: 'ERR_TOKEN_NOT_YET_VALID',
      sentence: `Not accepted: not yet valid — valid from ${iso(claims.nbf)}, ${span(claims.nbf * 1000 - atMs)} ahead; check this machine's clock (tessera doctor shows the skew).`,
    };
  }
  return {
    check: 'times',
    ok: true,
    sentence: `Within its lifetime: valid from ${iso(claims.nbf)} until ${iso(claims.exp)} (${span(claims.exp * 1000 - atMs)} left).`,
  };
}

/** Newest audit entry of an operation (optionally with a detail), or undefined when the caller may not read audit. */
async function auditTime(target: AdminTarget, operation: string, identityId?: string, detail?: string) {
  const query = identityId === undefined ? 'limit=1000' : `identity=${encodeURIComponent(identityId)}&limit=1000`;
  const res = await sendRequest(target, 'GET', `/admin/audit?${query}`);
  if (res.status !== 200) return undefined;
  const rows = (res.json.value ?? []) as Array<{ at: string; operation: string; outcome: string; detail?: string }>;
  return rows.find(
    (r) => r.operation === operation && r.outcome === 'success' && (detail === undefined || r.detail === detail),
  )?.at;
}

async function revocationCheck(target: AdminTarget, token: string, claims: TokenClaims): Promise<InspectCheck> {
  if (target.kind === 'anonymous') {
    return {
      check: 'revocation',
      ok: undefined,
      sentence:
        'Revocation not checked: give a connection string (the read-only verifier key is enough) to ask the server.',
    };
  }
  const res = await sendRequest(target, 'POST', '/tokens/:introspect', { body: { token } });
  if (res.status !== 200) {
    const error = wireError(res.json);
    return {
      check: 'revocation',
      ok: undefined,
      sentence: `Revocation not checked: the server answered ${res.status} ${error.inner ?? error.code} to introspection (tessera doctor explains).`,
    };
  }
  if (res.json.active === true) {
    return { check: 'revocation', ok: true, sentence: 'Not revoked: the server accepts it right now (introspection).' };
  }
  const reason = String(res.json.reason ?? 'unknown');
  const identity = claims.sub;
  if (reason === 'ERR_TOKEN_REVOKED' || reason === 'ERR_TOKEN_IDENTITY_DELETED') {
    const snapshot = await sendRequest(target, 'GET', '/revocations/snapshot');
    const entries = (snapshot.json.identities ?? []) as Array<{ id: string; at?: number }>;
    const at = entries.find((e) => e.id === identity)?.at;
    const when = at === undefined ? '' : ` at ${new Date(at).toISOString()}`;
    return reason === 'ERR_TOKEN_REVOKED'
      ? {
          check: 'revocation',
          ok: false,
          code: reason,
          sentence: `Not accepted: revoked${when} — the tokens of ${identity} were revoked after this one was minted; issue a new token (tessera audit --identity ${identity} shows who revoked).`,
        }
      : {
          check: 'revocation',
          ok: false,
          code: reason,
          sentence: `Not accepted: revoked${when} — its identity ${identity} was deleted; create a new identity.`,
        };
  }
  if (reason === 'ERR_TOKEN_KEY_ROTATED') {
    const name = claims.akv?.split('.')[0] ?? 'access';
    const at = await auditTime(target, 'admin.keys.regenerate', undefined, `key=${name}`);
    return {
      check: 'revocation',
      ok: false,
      code: reason,
      sentence: `Not accepted: revoked${at === undefined ? '' : ` at ${at}`} — the ${name} access key that minted it (${claims.akv ?? '?'}) was regenerated; tokens minted with the new key are fine.`,
    };
  }
  return {
    check: 'revocation',
    ok: false,
    code: reason,
    sentence: `Not accepted: the server's introspection answers ${reason}.`,
  };
}

async function capabilityCheck(
  options: InspectOptions,
  claims: TokenClaims,
  scopes: readonly TokenScope[],
): Promise<InspectCheck> {
  const capability = options.capability ?? '';
  if (!isCapability(capability)) {
    return {
      check: 'capability',
      ok: false,
      code: 'ERR_CAPABILITY_UNKNOWN',
      sentence: `'${capability}' is not a capability Tessera knows (see docs/token-contract.md for the table).`,
    };
  }
  const row = capabilityRow(capability);
  const context: AuthorizeContext = {};
  let roomNote = '';
  if (row?.requires === 'room' || row?.requires === 'room-role') {
    const room = await roomContext(options, claims.sub);
    roomNote = room.note;
    if (room.context !== undefined) Object.assign(context, { room: room.context });
  }
  const answer = authorize({ identity: claims.sub, scopes }, capability, context);
  const held = scopes.length === 0 ? 'no scopes' : `scopes ${scopes.join(', ')}`;
  if (answer.allowed) {
    return { check: 'capability', ok: true, sentence: `Its ${held} allow '${capability}'${roomNote}.` };
  }
  if (answer.reason === 'scope') {
    const would =
      answer.allowedBy.length === 1 ? `scope ${answer.allowedBy[0]}` : `one of ${answer.allowedBy.join(', ')}`;
    return {
      check: 'capability',
      ok: false,
      code: answer.code,
      sentence: `Not allowed: its ${held} do not allow '${capability}'; a token with ${would} would.`,
    };
  }
  return {
    check: 'capability',
    ok: false,
    code: answer.code,
    sentence: `Not allowed: ${answer.message}${roomNote}`,
  };
}

/** The room facts for a Rooms capability: `--room-role` as stated, or the Rooms API's participant list. */
async function roomContext(
  options: InspectOptions,
  identity: string,
): Promise<{ context: AuthorizeContext['room']; note: string }> {
  if (options.roomRole !== undefined) {
    return { context: { invited: true, role: options.roomRole }, note: ` (room role ${options.roomRole}, as stated)` };
  }
  if (options.roomId === undefined || options.target === undefined || options.target.kind === 'anonymous') {
    return {
      context: undefined,
      note: ' (give --room <roomId> with a connection string, or --room-role, to decide the room part)',
    };
  }
  const path = `/rooms/${encodeURIComponent(options.roomId)}/participants?api-version=2024-04-15`;
  const res = await sendRequest(options.target, 'GET', path);
  if (res.status !== 200) {
    return {
      context: undefined,
      note: ` (room ${options.roomId}: the server answered ${res.status} to the Rooms API, so the invitation was not checked; give --room-role)`,
    };
  }
  const participants = (res.json.value ?? []) as Array<{ rawId?: string; role?: string }>;
  const me = participants.find((p) => p.rawId?.toLowerCase() === identity.toLowerCase());
  const role = me?.role;
  return {
    context: { invited: me !== undefined, ...(role !== undefined && isRoomRole(role) ? { role } : {}) },
    note:
      me === undefined
        ? ` (not on room ${options.roomId}'s roster)`
        : ` (room ${options.roomId}, role ${role ?? 'Attendee'})`,
  };
}

function readToken(positional: string | undefined, file: string | undefined): string {
  if (positional !== undefined && file !== undefined) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'Give the token as an argument, - (stdin) or --token-file, not two.', {
      target: 'token-file',
    });
  }
  const path = file ?? (positional === '-' ? 0 : undefined);
  if (path !== undefined) {
    try {
      return readFileSync(path, 'utf8').trim();
    } catch {
      throw new TesseraError('ERR_CONFIG_INVALID', `Invalid --token-file: cannot read '${String(file ?? 'stdin')}'.`, {
        target: 'token-file',
      });
    }
  }
  if (positional === undefined || positional.trim() === '') {
    throw new TesseraError('ERR_CONFIG_INVALID', 'Usage: tessera token inspect <jwt|-> [--capability …] [--json]', {
      target: 'token',
    });
  }
  return positional;
}

/** Prints an {@link InspectReport} for people: the verdict, the claims, then one line per check. */
export function formatInspectReport(report: InspectReport): string {
  const lines = [report.accepted ? 'ACCEPTED' : 'NOT ACCEPTED'];
  if (report.claims !== undefined) {
    const c = report.claims;
    lines.push(
      `  identity   ${c.sub}`,
      `  scopes     ${c.scopes.join(', ') || '(none)'}`,
      `  issued     ${c.issuedAt}   expires ${c.expiresAt}   judged at ${report.judgedAt}`,
      `  issuer     ${c.iss}   key ${report.header?.kid ?? '(none)'}${c.mintedWithKey === undefined ? '' : `   minted with ${c.mintedWithKey}`}`,
    );
  }
  for (const check of report.checks) {
    lines.push(`${check.ok === true ? '✓' : check.ok === false ? '✗' : '?'} ${check.sentence}`);
  }
  return `${lines.join('\n')}\n`;
}

/** `tessera token inspect …`; resolves to the exit code: 0 accepted, 1 not. */
export async function tokenCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  out: (text: string) => void = (text) => void process.stdout.write(text),
): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'inspect') {
    throw new TesseraError('ERR_CONFIG_INVALID', 'Usage: tessera token inspect <jwt|-> [options]', { target: 'token' });
  }
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      ...TARGET_OPTIONS,
      'token-file': { type: 'string' },
      capability: { type: 'string' },
      room: { type: 'string' },
      'room-role': { type: 'string' },
      at: { type: 'string' },
    },
    strict: true,
    allowPositionals: true,
  });
  if (positionals.length > 1) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'Give one token.', { target: 'token' });
  }
  const roomRole = values['room-role'];
  if (roomRole !== undefined && !isRoomRole(roomRole)) {
    throw new TesseraError(
      'ERR_CONFIG_INVALID',
      'Invalid --room-role: Presenter, Attendee, Consumer or Collaborator.',
      {
        target: 'room-role',
      },
    );
  }
  const report = await inspectToken({
    token: readToken(positionals[0], values['token-file']),
    target: optionalTarget(values, env),
    atMs: parseAt(values.at, Date.now()),
    capability: values.capability,
    roomId: values.room,
    roomRole,
  });
  out(values.json === true ? `${JSON.stringify(report, null, 2)}\n` : formatInspectReport(report));
  return report.accepted ? 0 : 1;
}
