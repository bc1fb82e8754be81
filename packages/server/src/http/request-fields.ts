import type { FastifyInstance } from 'fastify';
import type { Principal } from '../auth/principal.js';

declare module 'fastify' {
  interface FastifyRequest {
    rawBody: Buffer | undefined;
    startedAt: bigint;
    clientRequestId: string;
    operation: string | undefined;
    identityId: string | undefined;
    principal: Principal | undefined;
    /** Set by `acs()` on routes that write an audit entry. */
    audited: boolean | 'failures' | undefined;
    /** The Tessera error code answered, for the audit log. */
    errorCode: string | undefined;
    /** A short, secret-free fact about the call for the audit log (`role=reader`, `key=primary`). */
    auditDetail: string | undefined;
  }
}

/** Declares every per-request field the HTTP layer sets (http/route.ts, http/request-hooks.ts, routes/). */
export function declareRequestFields(app: FastifyInstance): void {
  // Every per-request field declared up front, so each request object has one shape from its construction (V8
  // then keeps property access monomorphic; adding them as they are set made a new hidden-class chain per path).
  for (const field of [
    'rawBody',
    'clientRequestId',
    'operation',
    'identityId',
    'principal',
    'audited',
    'errorCode',
    'auditDetail',
  ] as const) {
    app.decorateRequest(field, undefined);
  }
  app.decorateRequest('startedAt', 0n);
}
