import { parseArgs } from 'node:util';
import { TesseraError } from '@tessera/core';
import { adminRequest, adminTarget, TARGET_OPTIONS } from './admin-request.js';

interface KeysBody {
  primaryKey: string;
  secondaryKey: string;
  verifierKey: string;
  primaryConnectionString: string;
  secondaryConnectionString: string;
  verifierConnectionString: string;
}

/** `tessera keys list|regenerate --key primary|secondary|verifier [--connection-string …] [--json]`. */
export async function keysCommand(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<void> {
  const [sub, ...rest] = argv;
  const { values } = parseArgs({
    args: rest,
    options: { ...TARGET_OPTIONS, key: { type: 'string' } },
    strict: true,
  });
  const target = adminTarget(values, env);
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
