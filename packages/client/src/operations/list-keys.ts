import {
  type ClientContext,
  type OperationOptions,
  readObject,
  routeUrl,
  unexpected,
} from '../identity/client-context.js';
import type { AccessKeys } from '../identity/models.js';
import type { PipelineResponse } from '../http/http-pipeline.js';

const FIELDS = [
  'primaryKey',
  'secondaryKey',
  'verifierKey',
  'primaryConnectionString',
  'secondaryConnectionString',
  'verifierConnectionString',
] as const;

/** Reads the `/admin/keys` response shape. */
export function readAccessKeys(operation: string, response: PipelineResponse): AccessKeys {
  const o = readObject(response.body);
  const out: Partial<Record<(typeof FIELDS)[number], string>> = {};
  for (const field of FIELDS) {
    const value = o?.[field];
    if (typeof value !== 'string') throw unexpected(operation, response, `has no ${field}`);
    out[field] = value;
  }
  return out as AccessKeys;
}

/** Lists the resource's access keys and connection strings (`GET /admin/keys`, full-control key only). */
export async function listKeys(context: ClientContext, options: OperationOptions = {}): Promise<AccessKeys> {
  const response = await context.pipeline.send({
    operation: 'listKeys',
    method: 'GET',
    url: routeUrl(context, '/admin/keys'),
    retryable: true,
    abortSignal: options.abortSignal,
  });
  return readAccessKeys('listKeys', response);
}
