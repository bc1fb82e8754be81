// How every admin command (keys, roles, audit) reaches a server: HMAC as the SDKs sign, or an OIDC bearer token.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import {
  importHmacKey,
  normalizeEndpoint,
  parseConnectionString,
  signRequestHeaders,
  TesseraError,
} from '@tessera/core';

/** How the CLI reaches and authenticates to a server's admin API. */
export type AdminTarget =
  | { readonly kind: 'hmac'; readonly endpoint: string; readonly accessKey: string; readonly ca: string | undefined }
  | { readonly kind: 'bearer'; readonly endpoint: string; readonly token: string; readonly ca: string | undefined };

/** The flags every admin command shares. */
export const TARGET_OPTIONS = {
  'connection-string': { type: 'string' },
  endpoint: { type: 'string' },
  'bearer-token': { type: 'string' },
  ca: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** The help lines of {@link TARGET_OPTIONS}. */
export const TARGET_USAGE = `      --connection-string <cs>   access-key auth [TESSERA_CONNECTION_STRING]
      --endpoint <url> --bearer-token <jwt>
                                 OIDC bearer auth instead [TESSERA_ENDPOINT, TESSERA_BEARER_TOKEN]
      --ca <file>                trust this CA for https (or NODE_EXTRA_CA_CERTS) [TESSERA_CA]
      --json                     print JSON`;

function configError(setting: string, message: string): TesseraError {
  return new TesseraError('ERR_CONFIG_INVALID', message, { target: setting });
}

/** Resolves the target from flags, then `TESSERA_*` variables. */
export function adminTarget(
  values: { 'connection-string'?: string; endpoint?: string; 'bearer-token'?: string; ca?: string },
  env: Readonly<Record<string, string | undefined>>,
): AdminTarget {
  const caPath = values.ca ?? env.TESSERA_CA;
  let ca: string | undefined;
  if (caPath !== undefined) {
    try {
      ca = readFileSync(caPath, 'utf8');
    } catch {
      throw configError('ca', `Invalid --ca: cannot read '${caPath}'.`);
    }
  }
  const token = values['bearer-token'] ?? env.TESSERA_BEARER_TOKEN;
  const connectionString =
    values['connection-string'] ?? (token === undefined ? env.TESSERA_CONNECTION_STRING : undefined);
  if (connectionString !== undefined) {
    const { endpoint, accessKey } = parseConnectionString(connectionString);
    return { kind: 'hmac', endpoint, accessKey, ca };
  }
  const endpoint = values.endpoint ?? env.TESSERA_ENDPOINT;
  if (token !== undefined && endpoint !== undefined) {
    return { kind: 'bearer', endpoint: normalizeEndpoint(endpoint), token, ca };
  }
  throw configError(
    'connection-string',
    'Give --connection-string (or TESSERA_CONNECTION_STRING), or --endpoint with --bearer-token.',
  );
}

/** Sends one admin request (HMAC-signed as the official SDKs sign, or with a bearer token) and parses the JSON. */
export async function adminRequest(
  target: AdminTarget,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const url = new URL(path, target.endpoint);
  const text = body === undefined ? '' : JSON.stringify(body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (target.kind === 'bearer') {
    headers.authorization = `Bearer ${target.token}`;
  } else {
    const signed = await signRequestHeaders({
      key: await importHmacKey(target.accessKey),
      method,
      url,
      body: text,
      nowMs: Date.now(),
    });
    Object.assign(headers, signed);
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const response = await new Promise<{ status: number; text: string }>((resolve, reject) => {
    const req = send(
      url,
      { method, headers, timeout: 15_000, ...(target.ca === undefined ? {} : { ca: target.ca }) },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          data += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: data }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(text);
  }).catch((error: unknown) => {
    const reason =
      error instanceof Error && /certificate|self.signed|CERT/i.test(error.message)
        ? ` (${error.message}; trust its CA with --ca or NODE_EXTRA_CA_CERTS)`
        : '';
    throw new TesseraError('ERR_NETWORK', `Cannot reach the Tessera server at ${target.endpoint}${reason}.`);
  });
  let json: Record<string, unknown> = {};
  if (response.text !== '') {
    try {
      json = JSON.parse(response.text) as Record<string, unknown>;
    } catch {
      json = {};
    }
  }
  if (response.status < 200 || response.status >= 300) {
    const error = json.error as { code?: string; message?: string } | undefined;
    throw new Error(`Server answered ${response.status} ${error?.code ?? ''}: ${error?.message ?? 'no detail'}`);
  }
  return json;
}
