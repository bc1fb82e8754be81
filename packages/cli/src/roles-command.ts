import { createHash, createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { parseArgs } from 'node:util';
import {
  buildStringToSign,
  formatHmacAuthorization,
  normalizeEndpoint,
  parseConnectionString,
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
    const date = new Date().toUTCString();
    const contentHash = createHash('sha256').update(text).digest('base64');
    const signature = createHmac('sha256', Buffer.from(target.accessKey, 'base64'))
      .update(buildStringToSign({ method, pathAndQuery: url.pathname + url.search, date, host: url.host, contentHash }))
      .digest('base64');
    headers['x-ms-date'] = date;
    headers['x-ms-content-sha256'] = contentHash;
    headers.authorization = formatHmacAuthorization(signature);
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

const PRINCIPAL_FLAGS = {
  subject: 'subject',
  'object-id': 'objectId',
  'app-id': 'appId',
  group: 'group',
  'app-role': 'appRole',
} as const;

/** Usage of `tessera roles`. */
export const ROLES_USAGE = `  roles list         role assignments of a running server
  roles assign --role <role> --issuer <url> (--subject|--object-id|--app-id|--group|--app-role) <value>
               [--description <text>]
                     give a principal of a trusted issuer a role (applies at once, in every process)
  roles remove --id <assignment-id>
  roles definitions  built-in and custom roles with their data actions
  roles define --name <name> --actions <a,b,…> [--description <text>]
                     create or replace a custom role
  roles undefine --name <name>
${TARGET_USAGE}`;

function pad(text: string, width: number): string {
  return text.length >= width ? `${text} ` : text.padEnd(width);
}

/** `tessera roles list|assign|remove|definitions|define|undefine`. */
export async function rolesCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  out: (text: string) => void = (text) => void process.stdout.write(text),
): Promise<void> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: {
      ...TARGET_OPTIONS,
      role: { type: 'string' },
      issuer: { type: 'string' },
      subject: { type: 'string' },
      'object-id': { type: 'string' },
      'app-id': { type: 'string' },
      group: { type: 'string' },
      'app-role': { type: 'string' },
      description: { type: 'string' },
      id: { type: 'string' },
      name: { type: 'string' },
      actions: { type: 'string' },
    },
    strict: true,
  });
  const usage = () => configError('roles', `Usage:\n${ROLES_USAGE}`);
  if (sub === undefined || !['list', 'assign', 'remove', 'definitions', 'define', 'undefine'].includes(sub)) {
    throw usage();
  }
  const target = adminTarget(values, env);
  const print = (json: unknown, text: string) =>
    out(values.json === true ? `${JSON.stringify(json, null, 2)}\n` : text);

  switch (sub) {
    case 'list': {
      const body = await adminRequest(target, 'GET', '/admin/roleAssignments');
      const rows = (body.value ?? []) as Array<Record<string, string>>;
      const lines = rows.map(
        (a) =>
          `${pad(a.id ?? '', 38)}${pad(a.role ?? '', 24)}${pad(`${a.principalType}:${a.principalId}`, 48)}${a.issuer}`,
      );
      print(
        body,
        rows.length === 0
          ? 'No role assignments.\n'
          : `${pad('ID', 38)}${pad('ROLE', 24)}${pad('PRINCIPAL', 48)}ISSUER\n${lines.join('\n')}\n`,
      );
      return;
    }
    case 'assign': {
      const given = Object.entries(PRINCIPAL_FLAGS).filter(([flag]) => values[flag as keyof typeof PRINCIPAL_FLAGS]);
      const [principal] = given;
      if (values.role === undefined || values.issuer === undefined || principal === undefined || given.length > 1) {
        throw usage();
      }
      const [flag, principalType] = principal;
      const body = await adminRequest(target, 'POST', '/admin/roleAssignments', {
        role: values.role,
        issuer: values.issuer,
        principalType,
        principalId: values[flag as keyof typeof PRINCIPAL_FLAGS],
        ...(values.description === undefined ? {} : { description: values.description }),
      });
      print(
        body,
        `Assigned ${String(body.role)} to ${String(body.principalType)}:${String(body.principalId)} (id ${String(body.id)}).\n`,
      );
      return;
    }
    case 'remove': {
      if (values.id === undefined) throw usage();
      await adminRequest(target, 'DELETE', `/admin/roleAssignments/${encodeURIComponent(values.id)}`);
      print({ removed: values.id }, `Removed role assignment ${values.id}.\n`);
      return;
    }
    case 'definitions': {
      const body = await adminRequest(target, 'GET', '/admin/roles');
      const rows = (body.value ?? []) as Array<{ name: string; actions: string[]; builtIn: boolean }>;
      const lines = rows.map(
        (r) => `${pad(r.name, 26)}${pad(r.builtIn ? 'built-in' : 'custom', 10)}${r.actions.join(', ')}`,
      );
      print(body, `${pad('ROLE', 26)}${pad('KIND', 10)}DATA ACTIONS\n${lines.join('\n')}\n`);
      return;
    }
    case 'define': {
      if (values.name === undefined || values.actions === undefined) throw usage();
      const body = await adminRequest(target, 'PUT', `/admin/roles/${encodeURIComponent(values.name)}`, {
        actions: values.actions
          .split(',')
          .map((a) => a.trim())
          .filter((a) => a !== ''),
        ...(values.description === undefined ? {} : { description: values.description }),
      });
      print(body, `Defined role ${String(body.name)}: ${(body.actions as string[]).join(', ')}.\n`);
      return;
    }
    default: {
      if (values.name === undefined) throw usage();
      await adminRequest(target, 'DELETE', `/admin/roles/${encodeURIComponent(values.name)}`);
      print({ removed: values.name }, `Removed role ${values.name}.\n`);
    }
  }
}
