import { parseArgs } from 'node:util';
import { TesseraError } from '@tessera/core';
import { adminRequest, adminTarget, TARGET_OPTIONS, TARGET_USAGE } from './admin-request.js';

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
  const usage = () => new TesseraError('ERR_CONFIG_INVALID', `Usage:\n${ROLES_USAGE}`, { target: 'roles' });
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
