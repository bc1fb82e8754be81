/** An app user whose own identity provider vouched for them (a verified OIDC token or a custom verify function). */
export interface AppUser {
  readonly kind: 'user';
  /** The identity provider (`iss`); part of the stable mapping key. */
  readonly issuer: string;
  /** The user's id at that provider (`sub`); part of the stable mapping key. */
  readonly subject: string;
  /** App roles, read from the policy's `rolesClaim`. */
  readonly roles: readonly string[];
  /** Every claim of the verified token (policy rules may match on them). */
  readonly claims: Readonly<Record<string, unknown>>;
}

/** An anonymous visitor (guest mode). */
export interface AppGuest {
  readonly kind: 'guest';
}

/** Who is asking for a communication identity or token. */
export type AppPrincipal = AppUser | AppGuest;
