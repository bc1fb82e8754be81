import { createRequire } from 'node:module';
import { isTesseraError } from '@tessera/core';
import { AUDIT_USAGE, auditCommand } from './audit-command.js';
import { DOCTOR_USAGE, doctorCommand } from './doctor-command.js';
import { IDENTITIES_USAGE, identitiesCommand } from './identities-command.js';
import { CHAT_SERVICE_USAGE, chatServiceCommand } from './chat-service-command.js';
import { TARGET_USAGE } from './admin-request.js';
import { KEYS_USAGE, keysCommand } from './keys-command.js';
import { ROLES_USAGE, rolesCommand } from './roles-command.js';
import { serveCommand, serveUsage } from './serve-command.js';
import { TOKEN_USAGE, tokenCommand } from './token-inspect-command.js';
import { TOKEN_SERVICE_USAGE, tokenServiceCommand } from './token-service-command.js';

/** The version of `@tessera/cli` (its package.json). */
export function cliVersion(): string {
  return (createRequire(import.meta.url)('../package.json') as { version: string }).version;
}

/** The usage text of `tessera`. */
export function usage(): string {
  return `Usage: tessera <command> [options]

Commands:
${serveUsage()}
${KEYS_USAGE}
${TARGET_USAGE}
${ROLES_USAGE}
${AUDIT_USAGE}
${IDENTITIES_USAGE}
${TOKEN_USAGE}
${DOCTOR_USAGE}
${TOKEN_SERVICE_USAGE}
${CHAT_SERVICE_USAGE}
  help               this text
  --version          the version of @tessera/cli
`;
}

/** Runs the CLI; resolves to the exit code (the serve command keeps the process alive). */
export async function main(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        await serveCommand(rest, env);
        return 0;
      case 'keys':
        await keysCommand(rest, env);
        return 0;
      case 'token-service':
        await tokenServiceCommand(rest, env);
        return 0;
      case 'chat-service':
        await chatServiceCommand(rest, env);
        return 0;
      case 'roles':
        await rolesCommand(rest, env);
        return 0;
      case 'audit':
        await auditCommand(rest, env);
        return 0;
      case 'identities':
        await identitiesCommand(rest, env);
        return 0;
      case 'token':
        return await tokenCommand(rest, env);
      case 'doctor':
        return await doctorCommand(rest, env);
      case '--version':
      case 'version':
        process.stdout.write(`${cliVersion()}\n`);
        return 0;
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        process.stdout.write(usage());
        return command === undefined ? 2 : 0;
      default:
        process.stderr.write(`tessera: unknown command '${command}'\n\n${usage()}`);
        return 2;
    }
  } catch (error) {
    const message = isTesseraError(error) || error instanceof Error ? error.message : String(error);
    const code = isTesseraError(error) ? ` [${error.code}]` : '';
    process.stderr.write(`tessera: ${message}${code}\n`);
    return 1;
  }
}
