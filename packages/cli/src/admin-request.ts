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
  | { readonly kind: 'bearer'; readonly endpoint: string; readonly token: string; readonly ca: string | undefined }
  | { readonly kind: 'anonymous'; readonly endpoint: string; readonly ca: string | undefined };

/** The flags every admin command shares. */
export const TARGET_OPTIONS = {
  'connection-string': { type: 'string' },
  'connection-string-file': { type: 'string' },
  endpoint: { type: 'string' },
  'bearer-token': { type: 'string' },
  'bearer-token-file': { type: 'string' },
  ca: { type: 'string' },
  json: { type: 'boolean' },
} as const;

/** The help lines of {@link TARGET_OPTIONS}. */
export const TARGET_USAGE = `      --connection-string <cs>   access-key auth [TESSERA_CONNECTION_STRING]
      --connection-string-file <file>
                                 read it from a file, out of ps and shell history [TESSERA_CONNECTION_STRING_FILE]
      --endpoint <url> --bearer-token <jwt>
                                 OIDC bearer auth instead [TESSERA_ENDPOINT, TESSERA_BEARER_TOKEN]
      --bearer-token-file <file> read the bearer token from a file [TESSERA_BEARER_TOKEN_FILE]
      --ca <file>                trust this CA for https (or NODE_EXTRA_CA_CERTS) [TESSERA_CA]
      --json                     print JSON`;

function configError(setting: string, message: string): TesseraError {
  return new TesseraError('ERR_CONFIG_INVALID', message, { target: setting });
}

/**
 * A secret given inline (`--<flag>`, then its variable) or as a file (`--<flag>-file`, then `<VAR>_FILE`), so it
 * need not appear in `ps` or shell history. Inline and file together is an error; the file's contents are trimmed
 * and never reach an error message.
 */
export function secretValue(
  flag: string,
  inline: string | undefined,
  file: string | undefined,
  env: Readonly<Record<string, string | undefined>>,
): string | undefined {
  const variable = `TESSERA_${flag.toUpperCase().replace(/-/g, '_')}`;
  const path = file ?? (inline === undefined ? env[`${variable}_FILE`] : undefined);
  if (inline !== undefined && file !== undefined) {
    throw configError(`${flag}-file`, `Invalid --${flag}-file: cannot be combined with --${flag}.`);
  }
  if (path === undefined) return inline ?? env[variable];
  let text: string;
  try {
    text = readFileSync(path, 'utf8').trim();
  } catch {
    throw configError(`${flag}-file`, `Invalid --${flag}-file (${variable}_FILE): cannot read '${path}'.`);
  }
  if (text === '') throw configError(`${flag}-file`, `Invalid --${flag}-file (${variable}_FILE): '${path}' is empty.`);
  return text;
}

/** The flags of {@link adminTarget}. */
export interface TargetValues {
  'connection-string'?: string;
  'connection-string-file'?: string;
  endpoint?: string;
  'bearer-token'?: string;
  'bearer-token-file'?: string;
  ca?: string;
}

/**
 * {@link adminTarget}, or, without credentials, the bare `--endpoint` (`TESSERA_ENDPOINT`) for public reads (JWKS,
 * discovery); undefined when not even an endpoint is given.
 */
export function optionalTarget(
  values: TargetValues,
  env: Readonly<Record<string, string | undefined>>,
): AdminTarget | undefined {
  const given = (flag: keyof TargetValues, variable: string) =>
    values[flag] ?? env[variable] ?? env[`${variable}_FILE`];
  const endpoint = values.endpoint ?? env.TESSERA_ENDPOINT;
  const credentials =
    given('connection-string', 'TESSERA_CONNECTION_STRING') ?? given('bearer-token', 'TESSERA_BEARER_TOKEN');
  if (
    credentials === undefined &&
    values['connection-string-file'] === undefined &&
    values['bearer-token-file'] === undefined
  ) {
    if (endpoint === undefined) return undefined;
    return { kind: 'anonymous', endpoint: normalizeEndpoint(endpoint), ca: readCa(values, env) };
  }
  return adminTarget(values, env);
}

function readCa(values: TargetValues, env: Readonly<Record<string, string | undefined>>): string | undefined {
  const caPath = values.ca ?? env.TESSERA_CA;
  if (caPath === undefined) return undefined;
  try {
    return readFileSync(caPath, 'utf8');
  } catch {
    throw configError('ca', `Invalid --ca: cannot read '${caPath}'.`);
  }
}

/** Resolves the target from flags, then `TESSERA_*` variables (each secret also from a file). */
export function adminTarget(values: TargetValues, env: Readonly<Record<string, string | undefined>>): AdminTarget {
  const ca = readCa(values, env);
  const token = secretValue('bearer-token', values['bearer-token'], values['bearer-token-file'], env);
  const connectionString =
    token === undefined || values['connection-string'] !== undefined || values['connection-string-file'] !== undefined
      ? secretValue('connection-string', values['connection-string'], values['connection-string-file'], env)
      : undefined;
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
    'Give --connection-string (or TESSERA_CONNECTION_STRING, --connection-string-file), or --endpoint with --bearer-token.',
  );
}

/** One answer of {@link sendRequest}. */
export interface SentResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
  /** The body parsed as a JSON object, or `{}`. */
  readonly json: Record<string, unknown>;
}

/** Options of {@link sendRequest}. */
export interface SendOptions {
  readonly body?: unknown;
  /** Send without credentials (discovery, JWKS, health). */
  readonly anonymous?: boolean;
  /** The clock the HMAC `x-ms-date` is taken from (default `Date.now`). */
  readonly nowMs?: number;
}

/**
 * Sends one request (HMAC-signed as the official SDKs sign, with a bearer token, or anonymous) and returns the
 * answer whatever its status. Network and TLS failures throw `ERR_NETWORK` with a hint, never a secret.
 */
export async function sendRequest(
  target: AdminTarget,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  options: SendOptions = {},
): Promise<SentResponse> {
  const url = new URL(path, target.endpoint);
  const text = options.body === undefined ? '' : JSON.stringify(options.body);
  const headers: Record<string, string> = { accept: 'application/json' };
  if (options.body !== undefined) headers['content-type'] = 'application/json';
  if (options.anonymous === true || target.kind === 'anonymous') {
    // public reads: no credentials
  } else if (target.kind === 'bearer') {
    headers.authorization = `Bearer ${target.token}`;
  } else {
    const signed = await signRequestHeaders({
      key: await importHmacKey(target.accessKey),
      method,
      url,
      body: text,
      nowMs: options.nowMs ?? Date.now(),
    });
    Object.assign(headers, signed);
  }
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const response = await new Promise<Omit<SentResponse, 'json'>>((resolve, reject) => {
    const req = send(
      url,
      { method, headers, timeout: 15_000, ...(target.ca === undefined ? {} : { ca: target.ca }) },
      (res) => {
        let data = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          data += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text: data }));
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
    throw new TesseraError('ERR_NETWORK', `Cannot reach the Tessera server at ${target.endpoint}${reason}.`, {
      cause: error,
    });
  });
  let json: Record<string, unknown> = {};
  if (response.text !== '') {
    try {
      const parsed: unknown = JSON.parse(response.text);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        json = parsed as Record<string, unknown>;
      }
    } catch {
      json = {};
    }
  }
  return { ...response, json };
}

/** The `error.code` and `error.message` of an ACS error body. */
export function wireError(json: Record<string, unknown>): { code: string; message: string; inner: string | undefined } {
  const error = json.error as { code?: string; message?: string; innererror?: { code?: string } } | undefined;
  return { code: error?.code ?? '', message: error?.message ?? 'no detail', inner: error?.innererror?.code };
}

/** Sends one admin request (HMAC-signed as the official SDKs sign, or with a bearer token) and parses the JSON. */
export async function adminRequest(
  target: AdminTarget,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const response = await sendRequest(target, method, path, body === undefined ? {} : { body });
  if (response.status < 200 || response.status >= 300) {
    const error = wireError(response.json);
    throw new Error(`Server answered ${response.status} ${error.code}: ${error.message}`);
  }
  return response.json;
}
