import { createHash, createHmac } from 'node:crypto';
import { parseArgs } from 'node:util';
import { buildStringToSign, formatHmacAuthorization, parseConnectionString, TesseraError } from '@tessera/core';

interface KeysBody {
  primaryKey: string;
  secondaryKey: string;
  verifierKey: string;
  primaryConnectionString: string;
  secondaryConnectionString: string;
  verifierConnectionString: string;
}

/** Sends one HMAC-signed admin request, as the official SDKs sign theirs. */
async function adminRequest(
  connectionString: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<KeysBody> {
  const { endpoint, accessKey } = parseConnectionString(connectionString);
  const url = new URL(path, endpoint);
  const text = body === undefined ? '' : JSON.stringify(body);
  const date = new Date().toUTCString();
  const contentHash = createHash('sha256').update(text).digest('base64');
  const signature = createHmac('sha256', Buffer.from(accessKey, 'base64'))
    .update(buildStringToSign({ method, pathAndQuery: url.pathname + url.search, date, host: url.host, contentHash }))
    .digest('base64');
  let response: Response;
  try {
    response = await fetch(url, {
      method,
      headers: {
        'x-ms-date': date,
        'x-ms-content-sha256': contentHash,
        authorization: formatHmacAuthorization(signature),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: text }),
      signal: AbortSignal.timeout(15_000),
    });
  } catch {
    throw new TesseraError('ERR_NETWORK', `Cannot reach the Tessera server at ${endpoint}.`);
  }
  const json = (await response.json().catch(() => undefined)) as
    | { error?: { code: string; message: string } }
    | KeysBody
    | undefined;
  if (!response.ok) {
    const error = json !== undefined && 'error' in json ? json.error : undefined;
    throw new Error(`Server answered ${response.status} ${error?.code ?? ''}: ${error?.message ?? 'no detail'}`);
  }
  return json as KeysBody;
}

/** `tessera keys list|regenerate --key primary|secondary|verifier [--connection-string …] [--json]`. */
export async function keysCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: { 'connection-string': { type: 'string' }, key: { type: 'string' }, json: { type: 'boolean' } },
    strict: true,
  });
  const connectionString = values['connection-string'] ?? env.TESSERA_CONNECTION_STRING;
  if (connectionString === undefined) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'Give --connection-string or set TESSERA_CONNECTION_STRING.', {
      target: 'connection-string',
    });
  }
  let keys: KeysBody;
  if (sub === 'list') {
    keys = await adminRequest(connectionString, 'GET', '/admin/keys');
  } else if (sub === 'regenerate') {
    const key = values.key;
    if (key !== 'primary' && key !== 'secondary' && key !== 'verifier') {
      throw new TesseraError('ERR_CONFIG_INVALID', 'Invalid --key: must be primary, secondary or verifier.', {
        target: 'key',
      });
    }
    keys = await adminRequest(connectionString, 'POST', '/admin/keys/:regenerate', { key });
  } else {
    throw new TesseraError(
      'ERR_CONFIG_INVALID',
      'Usage: tessera keys list|regenerate --key primary|secondary|verifier',
      { target: 'keys' },
    );
  }
  if (values.json === true) {
    process.stdout.write(`${JSON.stringify(keys, null, 2)}\n`);
    return;
  }
  process.stdout.write(
    `Primary key:                  ${keys.primaryKey}\n` +
      `Secondary key:                ${keys.secondaryKey}\n` +
      `Verifier key (read-only):     ${keys.verifierKey}\n` +
      `Primary connection string:    ${keys.primaryConnectionString}\n` +
      `Secondary connection string:  ${keys.secondaryConnectionString}\n` +
      `Verifier connection string:   ${keys.verifierConnectionString}\n`,
  );
}
