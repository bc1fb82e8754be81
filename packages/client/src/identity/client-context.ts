import { API_VERSIONS, TesseraError } from '@tessera/core';
import { ClientError } from '../errors/client-error.js';
import type { HttpPipeline, PipelineResponse } from '../http/http-pipeline.js';
import type { AbortSignalLike } from '../runtime/abort-signal-like.js';
import type { AccessTokenResult, CommunicationIdentity, UserReference } from './models.js';

/** What every operation needs: the pipeline, the endpoint and the api-versions. */
export interface ClientContext {
  readonly pipeline: HttpPipeline;
  /** `http(s)://host[:port]/`. */
  readonly endpoint: string;
  /** Sent on every ACS route. */
  readonly apiVersion: string;
  /** Sent instead when a call needs a feature `apiVersion` lacks (customId, GET identity). */
  readonly previewApiVersion: string;
  /** Send `Repeatability-Request-ID` / `Repeatability-First-Sent` on creates. */
  readonly repeatability: boolean;
}

/** Options every operation takes. */
export interface OperationOptions {
  abortSignal?: AbortSignalLike;
}

/** The ACS route URL for `path` with `api-version`, or a Tessera route without one. */
export function routeUrl(context: ClientContext, path: string, apiVersion?: string): URL {
  const url = new URL(path, context.endpoint);
  if (apiVersion !== undefined) url.searchParams.set('api-version', apiVersion);
  return url;
}

/** `/identities/<percent-encoded raw id>`, as the official SDK encodes it. */
export function identityPath(user: UserReference): string {
  const id = typeof user === 'string' ? user : 'communicationUserId' in user ? user.communicationUserId : user.id;
  if (typeof id !== 'string' || id === '') {
    throw new TesseraError('ERR_IDENTIFIER_INVALID', 'A user id is required.', { target: 'id' });
  }
  return `/identities/${encodeURIComponent(id)}`;
}

/** Does `version` carry the 2025-03-02-preview features (customId, GET identity)? */
export function hasCustomIdAndGet(version: string): boolean {
  return API_VERSIONS.find((v) => v.version === version)?.customIdAndGet ?? false;
}

/** Does `version` define the `Repeatability-*` headers on create? Unknown versions are assumed not to. */
export function hasRepeatability(version: string): boolean {
  return API_VERSIONS.find((v) => v.version === version)?.repeatability ?? false;
}

/** The api-version for a call that needs customId / GET identity. */
export function featureApiVersion(context: ClientContext): string {
  return hasCustomIdAndGet(context.apiVersion) ? context.apiVersion : context.previewApiVersion;
}

/** `ERR_UNEXPECTED_RESPONSE` for a 2xx whose body is not the documented shape. */
export function unexpected(operation: string, response: PipelineResponse, what: string): ClientError {
  return new ClientError('ERR_UNEXPECTED_RESPONSE', `${operation} failed: the response ${what}.`, {
    status: response.status,
    requestId: response.requestId,
    attempts: response.attempts,
  });
}

function record(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function parseDate(value: unknown): Date | undefined {
  if (typeof value !== 'string') return undefined;
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? undefined : date;
}

/** Reads `{ id, customId?, lastTokenIssuedAt? }`. */
export function readIdentity(operation: string, response: PipelineResponse, value: unknown): CommunicationIdentity {
  const o = record(value);
  if (o === undefined || typeof o.id !== 'string') throw unexpected(operation, response, 'has no identity id');
  const lastTokenIssuedAt = parseDate(o.lastTokenIssuedAt);
  return {
    id: o.id,
    ...(typeof o.customId === 'string' ? { customId: o.customId } : {}),
    ...(lastTokenIssuedAt === undefined ? {} : { lastTokenIssuedAt }),
  };
}

/** Reads `{ token, expiresOn }` plus the response's `Date` header. */
export function readAccessToken(operation: string, response: PipelineResponse, value: unknown): AccessTokenResult {
  const o = record(value);
  const expiresOn = parseDate(o?.expiresOn);
  if (o === undefined || typeof o.token !== 'string' || expiresOn === undefined) {
    throw unexpected(operation, response, 'has no access token');
  }
  const serverDate = parseDate(response.headers.get('date') ?? undefined);
  return { token: o.token, expiresOn, ...(serverDate === undefined ? {} : { serverDate }) };
}

/** Reads a field of the JSON body as an object. */
export function readObject(value: unknown): Record<string, unknown> | undefined {
  return record(value);
}
