/** An identity as the service returns it. `customId` and `lastTokenIssuedAt` need api-version 2025-03-02-preview. */
export interface CommunicationIdentity {
  /** The raw id, `8:acs:<resourceId>_<uuid>`. */
  readonly id: string;
  readonly customId?: string;
  readonly lastTokenIssuedAt?: Date;
}

/**
 * A user access token. `serverDate` is the response's `Date` header: hand the whole result to
 * `AutoRefreshingTokenCredential`'s refresher and it corrects for clock skew.
 */
export interface AccessTokenResult {
  readonly token: string;
  readonly expiresOn: Date;
  readonly serverDate?: Date;
}

/** `createUserAndToken`'s result. */
export interface UserAndTokenResult extends AccessTokenResult {
  readonly user: CommunicationIdentity;
}

/** An identity reference: a raw id, an official `CommunicationUserIdentifier`, or a {@link CommunicationIdentity}. */
export type UserReference = string | { readonly communicationUserId: string } | { readonly id: string };

/** The access keys of the resource, as `GET /admin/keys` returns them. Secrets: never log this object. */
export interface AccessKeys {
  readonly primaryKey: string;
  readonly secondaryKey: string;
  /** The read-only verifier key (revocation feed, introspection, JWKS). */
  readonly verifierKey: string;
  readonly primaryConnectionString: string;
  readonly secondaryConnectionString: string;
  readonly verifierConnectionString: string;
}

/** Which access key to regenerate. */
export type AccessKeyName = 'primary' | 'secondary';
