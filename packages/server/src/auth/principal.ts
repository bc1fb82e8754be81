import { TesseraError } from '@tessera/core';
import type { AccessKeyName } from '../store/store.js';

/**
 * The data actions of the identity API. Access keys and bearer principals are authorized by the actions
 * they hold; every route names the one it needs.
 */
export const DATA_ACTIONS = [
  'identities/create',
  'identities/read',
  'identities/delete',
  'tokens/issue',
  'tokens/revoke',
  'tokens/introspect',
  'tokens/exchange',
  'revocations/read',
  'keys/read',
  'keys/write',
  'roles/read',
  'roles/write',
  'audit/read',
  'metrics/read',
  // The Rooms API mounted on `tessera serve` (@tessera/chat, docs/rooms.md): read rooms and rosters, manage them,
  // ask for call decisions.
  'rooms/read',
  'rooms/write',
  'rooms/decide',
] as const;

/** One data action. */
export type DataAction = (typeof DATA_ACTIONS)[number];

/** Who is calling: an access key (HMAC) or a bearer-token principal (OIDC). */
export type Principal =
  | {
      readonly kind: 'accessKey';
      readonly key: { readonly name: AccessKeyName; readonly version: number };
    }
  | {
      readonly kind: 'bearer';
      readonly issuer: string;
      readonly subject: string;
      /** The data actions granted by the principal's role assignments. */
      readonly actions: ReadonlySet<DataAction>;
    };

const FULL = new Set<DataAction>(DATA_ACTIONS);
const VERIFIER = new Set<DataAction>(['tokens/introspect', 'revocations/read', 'metrics/read', 'rooms/decide']);

/** The actions a principal holds: primary and secondary keys everything, the verifier key reads (and call decisions). */
export function actionsOf(principal: Principal): ReadonlySet<DataAction> {
  if (principal.kind === 'bearer') return principal.actions;
  return principal.key.name === 'verifier' ? VERIFIER : FULL;
}

/** A short, secret-free label for logs and audit: `key:primary`, `bearer:<issuer>#<subject>`. */
export function principalLabel(principal: Principal): string {
  return principal.kind === 'accessKey'
    ? `key:${principal.key.name}`
    : `bearer:${principal.issuer}#${principal.subject}`;
}

/** Throws 403 `ERR_FORBIDDEN` naming the missing data action. */
export function authorize(principal: Principal, action: DataAction): void {
  if (!actionsOf(principal).has(action)) {
    const who =
      principal.kind === 'accessKey' && principal.key.name === 'verifier'
        ? 'The verifier key is read-only: it'
        : 'The caller';
    throw new TesseraError('ERR_FORBIDDEN', `${who} lacks the data action '${action}'.`, { details: { action } });
  }
}
