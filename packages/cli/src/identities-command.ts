import { parseArgs } from 'node:util';
import { TesseraError } from '@tessera/core';
import { type AdminTarget, adminTarget, sendRequest, TARGET_OPTIONS, wireError } from './admin-request.js';

/** Usage of `tessera identities`. */
export const IDENTITIES_USAGE = `  identities create [--custom-id <id>] [--scopes chat,voip] [--expires-in-minutes <60-1440>]
                     create an identity (the same one again for a known --custom-id), optionally with a token
  identities list [--custom-id <id>] [--max-page-size <1-1000>] [--continuation-token <t>] [--all]
                     live identities, oldest first, a page at a time (--all follows every page)
  identities get <id>            an identity's id, customId and lastTokenIssuedAt
  identities revoke <id>         revoke every token of an identity issued so far
  identities delete <id>         delete an identity (revokes its tokens)`;

/** The api-version with customId and GET (the newest preview that has them). */
const API_VERSION = '2025-03-02-preview';

const USAGE = 'Usage: tessera identities create|list|get <id>|revoke <id>|delete <id> [--json]';

function usageError(message = USAGE): TesseraError {
  return new TesseraError('ERR_CONFIG_INVALID', message, { target: 'identities' });
}

async function call(
  target: AdminTarget,
  method: 'GET' | 'POST' | 'DELETE',
  path: string,
  body?: unknown,
): Promise<Record<string, unknown>> {
  const res = await sendRequest(target, method, path, body === undefined ? {} : { body });
  if (res.status >= 200 && res.status < 300) return res.json;
  const error = wireError(res.json);
  throw new Error(
    `Server answered ${res.status} ${error.code}${error.inner === undefined ? '' : ` [${error.inner}]`}: ${error.message}`,
  );
}

const identityPath = (id: string, suffix = '') =>
  `/identities/${encodeURIComponent(id)}${suffix}?api-version=${API_VERSION}`;

/** `tessera identities create|get|revoke|delete` over the ACS Identity API (HMAC or bearer). */
export async function identitiesCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  out: (text: string) => void = (text) => void process.stdout.write(text),
): Promise<void> {
  const [sub, ...rest] = argv;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      ...TARGET_OPTIONS,
      'custom-id': { type: 'string' },
      scopes: { type: 'string' },
      'expires-in-minutes': { type: 'string' },
      'max-page-size': { type: 'string' },
      'continuation-token': { type: 'string' },
      all: { type: 'boolean' },
    },
    strict: true,
    allowPositionals: true,
  });
  const print = (json: unknown, text: string) =>
    out(values.json === true ? `${JSON.stringify(json, null, 2)}\n` : `${text}\n`);
  if (sub === 'create') {
    if (positionals.length > 0) throw usageError();
    const body: Record<string, unknown> = {};
    if (values['custom-id'] !== undefined) body.customId = values['custom-id'];
    if (values.scopes !== undefined) body.createTokenWithScopes = values.scopes.split(',').map((s) => s.trim());
    if (values['expires-in-minutes'] !== undefined) {
      if (!/^\d{1,5}$/.test(values['expires-in-minutes'])) {
        throw new TesseraError('ERR_CONFIG_INVALID', 'Invalid --expires-in-minutes: a whole number in [60, 1440].', {
          target: 'expires-in-minutes',
        });
      }
      body.expiresInMinutes = Number(values['expires-in-minutes']);
    }
    const target = adminTarget(values, env);
    const created = await call(target, 'POST', `/identities?api-version=${API_VERSION}`, body);
    const identity = created.identity as { id: string; customId?: string };
    const token = created.accessToken as { token: string; expiresOn: string } | undefined;
    print(
      created,
      `${identity.id}${identity.customId === undefined ? '' : `  customId ${identity.customId}`}` +
        (token === undefined ? '' : `\nToken (expires ${token.expiresOn}): ${token.token}`),
    );
    return;
  }
  if (sub === 'list') {
    if (positionals.length > 0) throw usageError();
    await listIdentities(adminTarget(values, env), values, out);
    return;
  }
  const [id, ...extra] = positionals;
  if (id === undefined || extra.length > 0 || !['get', 'revoke', 'delete'].includes(sub ?? '')) throw usageError();
  if (values['custom-id'] !== undefined || values.scopes !== undefined) {
    throw usageError('--custom-id and --scopes go with identities create.');
  }
  const target = adminTarget(values, env);
  if (sub === 'get') {
    const identity = await call(target, 'GET', identityPath(id));
    const last = identity.lastTokenIssuedAt === undefined ? 'never' : String(identity.lastTokenIssuedAt);
    print(
      identity,
      `${String(identity.id)}${identity.customId === undefined ? '' : `  customId ${String(identity.customId)}`}  last token issued ${last}`,
    );
  } else if (sub === 'revoke') {
    await call(target, 'POST', identityPath(id, '/:revokeAccessTokens'));
    print({ id, revoked: true }, `Revoked every token of ${id} issued so far.`);
  } else {
    await call(target, 'DELETE', identityPath(id));
    print({ id, deleted: true }, `Deleted ${id}; its tokens are revoked.`);
  }
}

interface ListedIdentity {
  id: string;
  customId?: string;
  createdAt: string;
  lastTokenIssuedAt?: string;
}

/** `identities list`: one page (or every page with --all) of `GET /admin/identities`. */
async function listIdentities(
  target: AdminTarget,
  values: {
    'custom-id'?: string;
    'max-page-size'?: string;
    'continuation-token'?: string;
    all?: boolean;
    json?: boolean;
  },
  out: (text: string) => void,
): Promise<void> {
  const size = values['max-page-size'];
  if (size !== undefined && !/^\d{1,4}$/.test(size)) {
    throw new TesseraError('ERR_CONFIG_INVALID', 'Invalid --max-page-size: a whole number in [1, 1000].', {
      target: 'max-page-size',
    });
  }
  const query = new URLSearchParams();
  if (size !== undefined) query.set('maxPageSize', size);
  if (values['custom-id'] !== undefined) query.set('customId', values['custom-id']);
  if (values['continuation-token'] !== undefined) query.set('continuationToken', values['continuation-token']);
  let path: string | undefined = `/admin/identities?${query.toString()}`;
  const all: ListedIdentity[] = [];
  let nextLink: string | undefined;
  while (path !== undefined) {
    const page = await call(target, 'GET', path);
    all.push(...((page.value ?? []) as ListedIdentity[]));
    nextLink = typeof page.nextLink === 'string' ? page.nextLink : undefined;
    path = values.all === true ? nextLink : undefined;
  }
  if (values.json === true) {
    out(`${JSON.stringify(nextLink === undefined ? { value: all } : { value: all, nextLink }, null, 2)}\n`);
    return;
  }
  const lines = all.map(
    (i) =>
      `${i.id}${i.customId === undefined ? '' : `  customId ${i.customId}`}  created ${i.createdAt}  last token ${i.lastTokenIssuedAt ?? 'never'}`,
  );
  if (all.length === 0) lines.push('No identities.');
  const token =
    nextLink === undefined ? undefined : new URL(nextLink, 'http://x/').searchParams.get('continuationToken');
  if (token !== null && token !== undefined)
    lines.push(`More: tessera identities list --continuation-token '${token}' (or --all)`);
  out(`${lines.join('\n')}\n`);
}
