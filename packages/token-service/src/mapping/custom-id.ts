import { createHash } from 'node:crypto';

/**
 * The identity server customId for an app user: `oidc:` + base64url(SHA-256(issuer + "\n" + subject)). Stable
 * (same user → same id on every token-service instance), bounded (49 characters, far under the 256 limit)
 * and it reveals neither the issuer nor the subject.
 */
export function customIdFor(issuer: string, subject: string): string {
  return `oidc:${createHash('sha256').update(`${issuer}\n${subject}`, 'utf8').digest('base64url')}`;
}

/** The customId of an ephemeral session's identity: crash-safe clean-up can find it again by this id. */
export function sessionCustomId(sessionId: string): string {
  return `session:${sessionId}`;
}
