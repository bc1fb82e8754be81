import { randomBytes, randomUUID } from 'node:crypto';
import {
  encodeClaimsJson,
  checkRevocation,
  checkSignatureForm,
  checkTokenTimes,
  decodeJwt,
  parseClaims,
  parseRawId,
  formatRawId,
  scopesOf,
  TesseraError,
  uuidV7,
  type TokenScope,
  isTesseraError,
  type TesseraErrorCode,
} from '@tessera/core';
import type { KeyObject } from 'node:crypto';
import type { TokenSigner } from '../crypto/token-signer.js';
import { verifyTokenSignature } from '../crypto/token-signer.js';
import type { KeyRing } from '../auth/key-ring.js';
import type { Principal } from '../auth/principal.js';
import type { IdentityQuery, IdentityRecord, RevocationSnapshot, Store } from '../store/store.js';
import { formatServiceDate, type ResourceContext } from './resource-context.js';
import type { CachedIdentity, IdentityCache } from './identity-cache.js';
import type { TouchBuffer } from './touch-buffer.js';
import type { ServiceEvents } from '../metrics/server-metrics.js';

/** An issued user access token as the wire returns it. */
export interface AccessToken {
  readonly token: string;
  readonly expiresOn: string;
}

/** RFC 7662-style introspection result. */
export type IntrospectionResult =
  | {
      readonly active: true;
      readonly sub: string;
      readonly scope: string;
      readonly exp: number;
      readonly iat: number;
      readonly jti: string;
      readonly iss: string;
      readonly aud: string;
    }
  | { readonly active: false; readonly reason: TesseraErrorCode };

/** Dependencies of {@link createIdentityService}. */
export interface IdentityServiceDeps {
  readonly store: Store;
  readonly resource: ResourceContext;
  readonly signer: () => TokenSigner;
  /** Public keys by kid, active and retired, for introspection. */
  readonly publicKeys: () => ReadonlyMap<string, KeyObject>;
  readonly keys: KeyRing;
  readonly touches: TouchBuffer;
  readonly cache: IdentityCache;
  readonly clock: () => number;
  /** Called after every change that appends a revocation event. */
  readonly onRevocationEvent: () => void;
  /** Counts identities, tokens and revocations for the metrics (absent: metrics off). */
  readonly events?: ServiceEvents | undefined;
}

/** The ACS Identity operations, over the store port. */
export type IdentityService = ReturnType<typeof createIdentityService>;

/** Throws 404 `ERR_IDENTITY_NOT_FOUND` / `ERR_IDENTITY_DELETED` unless the identity is there and live. */
function assertLive<T>(identity: T | undefined, isDeleted: (identity: T) => boolean): asserts identity is T {
  if (identity === undefined) throw new TesseraError('ERR_IDENTITY_NOT_FOUND', "Provided identity doesn't exist.");
  if (isDeleted(identity)) throw new TesseraError('ERR_IDENTITY_DELETED', 'Provided identity has been deleted.');
}

/** Creates the identity service. */
export function createIdentityService(deps: IdentityServiceDeps) {
  const { store, resource, clock, events } = deps;

  /** Parses a raw id and checks it belongs to this resource (401 IdentityNotOwned as the service answers). */
  const ownResource = resource.resourceId.toLowerCase();
  const owned = (rawId: string): string => {
    const parsed = parseRawId(rawId);
    if (parsed.resourceId !== ownResource) {
      throw new TesseraError('ERR_IDENTITY_NOT_OWNED', "Provided identity doesn't belong to the resource.");
    }
    return parsed.rawId;
  };

  /** The identity from the store, if it exists and is not deleted. */
  const live = async (rawId: string): Promise<IdentityRecord> => {
    const identity = await store.getIdentity(owned(rawId));
    assertLive(identity, (i) => i.deletedAt !== undefined);
    return identity;
  };

  /** The hot path's view (id and epoch): synchronously from the cache when it can, else loaded. */
  const liveCached = (rawId: string): CachedIdentity | Promise<CachedIdentity> => {
    const found = deps.cache.get(owned(rawId), store.getIdentity);
    const check = (identity: CachedIdentity | undefined): CachedIdentity => {
      assertLive(identity, (i) => i.deleted);
      return identity;
    };
    return found instanceof Promise ? found.then(check) : check(found);
  };

  // Not async: the issue path's only wait is the signature. `now` is the issue time (the caller records it).
  const mint = (
    identity: Pick<IdentityRecord, 'id' | 'epoch'>,
    scopes: readonly TokenScope[],
    lifetimeMinutes: number,
    principal: Principal,
    now: number,
    expiresAt?: number,
  ): Promise<AccessToken> => {
    const signer = deps.signer();
    // Tokens minted under an access key are pinned to its version (rotation revokes them); bearer-minted are not.
    const key =
      principal.kind === 'accessKey' && principal.key.name !== 'verifier'
        ? { name: principal.key.name, version: principal.key.version }
        : undefined;
    const { json, exp } = encodeClaimsJson({
      issuer: resource.issuer,
      audience: resource.audience,
      rawId: identity.id,
      scopes,
      nowMs: now,
      lifetimeMinutes,
      expiresAt,
      tokenId: randomUUID(),
      resourceLocation: resource.location,
      region: resource.region,
      revocationEpoch: identity.epoch,
      accessKey: key,
    });
    return signer.sign(json).then((token) => {
      deps.touches.touch(identity.id, now);
      events?.tokenIssued(scopes);
      return { token, expiresOn: formatServiceDate(exp * 1000) };
    });
  };

  const withPendingTouch = (identity: IdentityRecord): IdentityRecord => {
    const pending = deps.touches.pending(identity.id);
    return pending !== undefined && pending > (identity.lastTokenIssuedAt ?? 0)
      ? { ...identity, lastTokenIssuedAt: pending }
      : identity;
  };

  return {
    /** Creates an identity (get-or-create by customId or Repeatability-Request-ID), optionally with a token. */
    async create(input: {
      customId?: string | undefined;
      requestKey?: string | undefined;
      scopes?: readonly TokenScope[] | undefined;
      lifetimeMinutes: number;
      principal: Principal;
    }): Promise<{ identity: IdentityRecord; created: boolean; accessToken?: AccessToken }> {
      const now = clock();
      const id = formatRawId(resource.resourceId, uuidV7(now, randomBytes(10)));
      const { identity, created } = await store.createIdentity({
        id,
        customId: input.customId,
        requestKey: input.requestKey,
        createdAt: now,
      });
      if (created) events?.identityCreated();
      if (input.scopes === undefined) return { identity: withPendingTouch(identity), created };
      const accessToken = await mint(identity, input.scopes, input.lifetimeMinutes, input.principal, now);
      return { identity: withPendingTouch({ ...identity, lastTokenIssuedAt: now }), created, accessToken };
    },

    async get(rawId: string): Promise<IdentityRecord> {
      return withPendingTouch(await live(rawId));
    },

    issue(rawId: string, scopes: readonly TokenScope[], lifetimeMinutes: number, principal: Principal) {
      const issueTo = (identity: CachedIdentity) => mint(identity, scopes, lifetimeMinutes, principal, clock());
      try {
        const identity = liveCached(rawId);
        return identity instanceof Promise ? identity.then(issueTo) : issueTo(identity);
      } catch (error) {
        return Promise.reject(error);
      }
    },

    /** The identity mapped to `customId`, created on first use (token exchange: one identity per external user). */
    async getOrCreate(customId: string): Promise<IdentityRecord> {
      const now = clock();
      const { identity, created } = await store.createIdentity({
        id: formatRawId(resource.resourceId, uuidV7(now, randomBytes(10))),
        customId,
        createdAt: now,
      });
      if (created) events?.identityCreated();
      return identity;
    },

    /** Mints a token for a known identity expiring at `expiresAt` (Unix seconds), e.g. an exchanged token's. */
    async issueUntil(identity: IdentityRecord, scopes: readonly TokenScope[], expiresAt: number, principal: Principal) {
      return mint(identity, scopes, 1440, principal, clock(), expiresAt);
    },

    async revoke(rawId: string): Promise<void> {
      await live(rawId);
      const after = await store.revokeIdentityTokens(owned(rawId), clock());
      events?.tokensRevoked();
      if (after === undefined) deps.cache.invalidate(owned(rawId));
      else deps.cache.put(after);
      deps.onRevocationEvent();
    },

    async delete(rawId: string): Promise<void> {
      await live(rawId);
      const after = await store.deleteIdentity(owned(rawId), clock());
      events?.identityDeleted();
      if (after === undefined) deps.cache.invalidate(owned(rawId));
      else deps.cache.put(after);
      deps.onRevocationEvent();
    },

    /** Whether a token is valid right now, and if not, why — the server-side truth the verifier builds on. */
    async introspect(token: unknown): Promise<IntrospectionResult> {
      try {
        const decoded = decodeJwt(token);
        if (decoded.header.alg !== 'ES256') throw new TesseraError('ERR_TOKEN_BAD_SIGNATURE');
        const key = decoded.header.kid === undefined ? undefined : deps.publicKeys().get(decoded.header.kid);
        if (key === undefined) throw new TesseraError('ERR_TOKEN_UNKNOWN_KEY');
        if (!verifyTokenSignature(decoded.signingInput, decoded.signature, key)) {
          throw new TesseraError('ERR_TOKEN_BAD_SIGNATURE');
        }
        const claims = parseClaims(decoded.payload);
        checkSignatureForm(claims.tsv, decoded.signature);
        if (claims.iss !== resource.issuer) throw new TesseraError('ERR_TOKEN_WRONG_ISSUER');
        if (claims.aud !== resource.audience) throw new TesseraError('ERR_TOKEN_WRONG_AUDIENCE');
        checkTokenTimes(claims, { nowMs: clock() });
        const identity = await store.getIdentity(claims.sub);
        const ring = deps.keys;
        checkRevocation(claims, {
          identity:
            identity === undefined ? undefined : { epoch: identity.epoch, deleted: identity.deletedAt !== undefined },
          accessKeys: { primary: ring.get('primary')?.version ?? 0, secondary: ring.get('secondary')?.version ?? 0 },
        });
        return {
          active: true,
          sub: claims.sub,
          scope: scopesOf(claims).join(' '),
          exp: claims.exp,
          iat: claims.iat,
          jti: claims.jti,
          iss: claims.iss,
          aud: claims.aud,
        };
      } catch (error) {
        if (isTesseraError(error) && error.code.startsWith('ERR_TOKEN_')) return { active: false, reason: error.code };
        throw error;
      }
    },

    /** One page of identities in id order (the operator's listing, `GET /admin/identities`). */
    list(query: IdentityQuery): Promise<IdentityRecord[]> {
      return store.listIdentities(query);
    },

    /** The current revocation state (`GET /revocations/snapshot`). */
    revocationSnapshot(): Promise<RevocationSnapshot> {
      return store.revocationSnapshot();
    },

    /** Resolves when the store answers (`GET /readyz`); rejects when it does not. */
    ready(): Promise<void> {
      return store.ping();
    },
  };
}
