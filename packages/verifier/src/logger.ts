/**
 * Where the verifier reports trouble (feed reconnects, JWKS refetch failures). Fields are plain facts — status
 * codes, delays, sequence numbers — never a token, key or signature. `console` fits.
 */
export interface VerifierLogger {
  warn(message: string, fields?: Record<string, string | number | boolean>): void;
  info?(message: string, fields?: Record<string, string | number | boolean>): void;
}
