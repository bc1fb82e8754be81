import type { Capability } from '@tessera/core';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Verifier } from './create-verifier.js';
import { type AuthorizationRequirement, checkAuthorization } from './http/check-authorization.js';
import { errorResponse } from './http/error-response.js';
import type { VerifiedToken } from './verified-token.js';

declare module 'express-serve-static-core' {
  interface Request {
    /** The verified user access token, set by the Tessera middleware. */
    tessera?: VerifiedToken;
  }
}

/**
 * Express middleware that requires a valid token (and a capability when `requirement.capability` is set). On
 * success `req.tessera` (and `res.locals.tessera`) hold the verified token; on failure it answers with the mapped
 * status, `WWW-Authenticate` and ACS-style error body.
 */
export function tesseraMiddleware(
  verifier: Verifier,
  requirement: AuthorizationRequirement<Request> = {},
): RequestHandler {
  return (req: Request, res: Response, next: NextFunction): void => {
    checkAuthorization(verifier, req.headers.authorization, req, requirement).then((outcome) => {
      if (outcome.ok) {
        req.tessera = outcome.token;
        res.locals.tessera = outcome.token;
        next();
        return;
      }
      const r = errorResponse(outcome.error);
      res.status(r.status).set(r.headers).json(r.body);
    }, next);
  };
}

/** `tesseraMiddleware` for one capability: `app.post('/threads', requireCapability(verifier, 'chat.thread.create'), …)`. */
export function requireCapability(
  verifier: Verifier,
  capability: Capability,
  context?: AuthorizationRequirement<Request>['context'],
): RequestHandler {
  return tesseraMiddleware(verifier, context === undefined ? { capability } : { capability, context });
}
