import type { RoleAssignmentRecord, RoleDefinitionRecord, Store } from '../store/store.js';
import type { DataAction } from './principal.js';
import {
  BUILT_IN_ROLES,
  builtInRole,
  claimValues,
  normalizePrincipalId,
  ROLE_PRINCIPAL_TYPES,
  type RoleDefinition,
} from './roles.js';
import { DATA_ACTIONS } from './principal.js';

/**
 * The role assignments and custom roles of the resource, held in memory so authorizing a bearer principal never
 * waits for the store. Reloaded after every local change and whenever the store's roles version moves (another
 * process changed something: PostgreSQL NOTIFY or the safety-net poll).
 */
export interface RolesRegistry {
  /** The data actions a verified token of `issuer` holds through its role assignments. */
  actionsFor(issuer: string, claims: Readonly<Record<string, unknown>>): ReadonlySet<DataAction>;
  /** Built-in roles, then custom ones. */
  roles(): readonly RoleDefinition[];
  /** The role of that name, built-in or custom. */
  role(name: string): RoleDefinition | undefined;
  assignments(): readonly RoleAssignmentRecord[];
  /** Reloads from the store now. */
  reload(): Promise<void>;
  /** Reloads if the store's roles version differs from the one loaded. */
  refreshIfChanged(): Promise<void>;
}

function toDefinition(record: RoleDefinitionRecord): RoleDefinition {
  return {
    name: record.name,
    description: record.description ?? '',
    actions: record.actions.filter((a): a is DataAction => (DATA_ACTIONS as readonly string[]).includes(a)),
    builtIn: false,
  };
}

interface Loaded {
  readonly version: number;
  readonly custom: ReadonlyMap<string, RoleDefinition>;
  readonly assignments: readonly RoleAssignmentRecord[];
  /** issuer → `type\0id` → actions */
  readonly index: ReadonlyMap<string, ReadonlyMap<string, ReadonlySet<DataAction>>>;
}

function build(version: number, definitions: RoleDefinitionRecord[], assignments: RoleAssignmentRecord[]): Loaded {
  const custom = new Map(definitions.map((d) => [d.name, toDefinition(d)]));
  const index = new Map<string, Map<string, Set<DataAction>>>();
  for (const a of assignments) {
    // An assignment naming a role that no longer exists grants nothing.
    const role = builtInRole(a.role) ?? custom.get(a.role);
    if (role === undefined) continue;
    let byPrincipal = index.get(a.issuer);
    if (byPrincipal === undefined) {
      byPrincipal = new Map();
      index.set(a.issuer, byPrincipal);
    }
    const key = `${a.principalType}\u0000${normalizePrincipalId(a.principalId)}`;
    let actions = byPrincipal.get(key);
    if (actions === undefined) {
      actions = new Set();
      byPrincipal.set(key, actions);
    }
    for (const action of role.actions) actions.add(action);
  }
  return { version, custom, assignments, index };
}

const NONE: ReadonlySet<DataAction> = new Set();

/** Creates the registry and loads it once. */
export async function createRolesRegistry(store: Store): Promise<RolesRegistry> {
  let loaded: Loaded = build(0, [], []);
  let reloading: Promise<void> | undefined;
  let again = false;

  const load = async (): Promise<void> => {
    // Version first: a change racing this read leaves the version behind the data, so it reloads again later.
    const version = await store.rolesVersion();
    const [definitions, assignments] = await Promise.all([store.listRoleDefinitions(), store.listRoleAssignments()]);
    loaded = build(version, definitions, assignments);
  };

  // Coalesces concurrent reloads; a reload asked for while one runs runs once more afterwards.
  const reload = (): Promise<void> => {
    if (reloading !== undefined) {
      again = true;
      return reloading;
    }
    reloading = (async () => {
      try {
        do {
          again = false;
          await load();
        } while (again);
      } finally {
        reloading = undefined;
      }
    })();
    return reloading;
  };

  await reload();

  return {
    actionsFor(issuer, claims) {
      const byPrincipal = loaded.index.get(issuer);
      if (byPrincipal === undefined) return NONE;
      const out = new Set<DataAction>();
      for (const type of ROLE_PRINCIPAL_TYPES) {
        for (const value of claimValues(claims, type)) {
          for (const action of byPrincipal.get(`${type}\u0000${value}`) ?? NONE) out.add(action);
        }
      }
      return out;
    },
    roles: () => [...BUILT_IN_ROLES, ...loaded.custom.values()],
    role: (name) => builtInRole(name) ?? loaded.custom.get(name),
    assignments: () => loaded.assignments,
    reload,
    async refreshIfChanged() {
      if ((await store.rolesVersion()) !== loaded.version) await reload();
    },
  };
}
