import { parseArgs } from 'node:util';
import { TesseraError } from '@tessera/core';
import { rotateMasterKey } from '@tessera/server';
import { adminRequest, adminTarget, TARGET_OPTIONS } from './admin-request.js';
import { parseServeArgs } from './serve-command.js';

interface KeysBody {
  primaryKey: string;
  secondaryKey: string;
  verifierKey: string;
  primaryConnectionString: string;
  secondaryConnectionString: string;
  verifierConnectionString: string;
}

interface SigningKeyBody {
  kid: string;
  state: string;
  activatesAt: string;
  retiredAt?: string;
  dropsAt?: string;
}

/** The help lines of `tessera keys`. */
export const KEYS_USAGE = `  keys list          show the access keys and connection strings of a running server
  keys regenerate --key primary|secondary|verifier
                     regenerate a key: the old one stops working at once and tokens minted with it are revoked
  keys signing       list the token signing keys (pending, active, retired) of a running server
  keys rotate-signing [--activate-after <seconds>]
                     a new ES256 key signs from <seconds> on (default 10; published in JWKS at once); the old
                     one stays in JWKS until its last token has expired, then is dropped. Revokes nothing.
  keys rotate-master --master-key-file <new> --previous-master-key-file <old> [serve's --store, --data-dir]
                     re-seal every secret at rest under the new master key (safe to re-run; revokes nothing)`;

const USAGE =
  'Usage: tessera keys list | regenerate --key primary|secondary|verifier | signing | rotate-signing | rotate-master';

function signingLine(key: SigningKeyBody): string {
  const retired = key.retiredAt === undefined ? '' : `  retired ${key.retiredAt}  leaves JWKS ${key.dropsAt ?? ''}`;
  return `${key.kid}  ${key.state.padEnd(7)}  signs from ${key.activatesAt}${retired}\n`;
}

/**
 * `tessera keys list|regenerate|signing|rotate-signing` against a running server's admin API, and
 * `tessera keys rotate-master` against the store itself.
 */
export async function keysCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const [sub, ...rest] = argv;
  if (sub === 'rotate-master') {
    const report = await rotateMasterKey(parseServeArgs(rest, env));
    process.stdout.write(
      `Re-sealed ${report.resealed} of ${report.total} secrets; every secret is now under the new master key.\n`,
    );
    return;
  }
  const { values } = parseArgs({
    args: rest,
    options: { ...TARGET_OPTIONS, key: { type: 'string' }, 'activate-after': { type: 'string' } },
    strict: true,
  });
  const target = adminTarget(values, env);
  if (sub === 'signing' || sub === 'rotate-signing') {
    let body: Record<string, unknown>;
    if (sub === 'signing') body = await adminRequest(target, 'GET', '/admin/signing-keys');
    else {
      const after = values['activate-after'];
      if (after !== undefined && !/^\d{1,5}$/.test(after)) {
        throw new TesseraError('ERR_CONFIG_INVALID', 'Invalid --activate-after: must be a whole number of seconds.', {
          target: 'activate-after',
        });
      }
      body = await adminRequest(
        target,
        'POST',
        '/admin/signing-keys/:rotate',
        after === undefined ? {} : { activateAfterSeconds: Number(after) },
      );
    }
    if (values.json === true) {
      process.stdout.write(`${JSON.stringify(body, null, 2)}\n`);
      return;
    }
    const key = body.key as SigningKeyBody | undefined;
    if (key !== undefined) process.stdout.write(`New signing key ${key.kid} signs from ${key.activatesAt}.\n`);
    for (const k of (body.keys as SigningKeyBody[] | undefined) ?? []) process.stdout.write(signingLine(k));
    return;
  }
  let keys: KeysBody;
  if (sub === 'list') {
    keys = (await adminRequest(target, 'GET', '/admin/keys')) as unknown as KeysBody;
  } else if (sub === 'regenerate') {
    const key = values.key;
    if (key !== 'primary' && key !== 'secondary' && key !== 'verifier') {
      throw new TesseraError('ERR_CONFIG_INVALID', 'Invalid --key: must be primary, secondary or verifier.', {
        target: 'key',
      });
    }
    keys = (await adminRequest(target, 'POST', '/admin/keys/:regenerate', { key })) as unknown as KeysBody;
  } else {
    throw new TesseraError('ERR_CONFIG_INVALID', USAGE, { target: 'keys' });
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
