import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs';

// Files at rest (issue #16): the data directory holds identities, custom ids, the audit log, sealed keys and (unless
// it is given elsewhere) the master key, so it is private to the user the server runs as: directories 0700, files
// 0600. New ones are created so; on start, existing looser files are tightened and looser directories reported.

/** Mode of the data directory and of any directory Tessera creates for its files. */
export const PRIVATE_DIR_MODE = 0o700;
/** Mode of the database files (SQLite and its -wal / -shm), key files and the development CA key. */
export const PRIVATE_FILE_MODE = 0o600;

/** A path found readable by group or others on start. */
export interface ModeChange {
  readonly path: string;
  /** The permission bits found, e.g. `0o755`. */
  readonly from: number;
  /** The private mode: what it was set to, or (for a directory, or when chmod failed) what it should be. */
  readonly to: number;
  /** True when the mode was changed; directories are only reported (see {@link tightenModes}). */
  readonly changed: boolean;
  /** Set when chmod failed (e.g. the file belongs to another user). */
  readonly error?: string;
}

// chmod has no meaning for these files on Windows (ACLs decide); nothing is done there.
const POSIX = process.platform !== 'win32';

/** Creates a directory (and missing parents) with mode 0700. Existing directories are left as they are. */
export function makePrivateDir(path: string): void {
  mkdirSync(path, { recursive: true, mode: PRIVATE_DIR_MODE });
}

/**
 * Creates an empty file with mode 0600 unless it exists. SQLite creates its -wal and -shm files with the mode of the
 * database file, so creating the database this way makes all three private.
 */
export function createPrivateFile(path: string): void {
  try {
    closeSync(openSync(path, 'wx', PRIVATE_FILE_MODE));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
}

/**
 * Finds the existing paths that grant anything to group or others. Files are tightened to 0600. Directories are only
 * reported: a `--data-dir` may be a folder the operator shares on purpose (`.`, a home), and with every file in it
 * 0600 an open directory shows names, not contents. Missing paths are skipped. Returns the findings, to be logged.
 */
export function tightenModes(paths: ReadonlyArray<{ readonly path: string; readonly dir: boolean }>): ModeChange[] {
  if (!POSIX) return [];
  const changes: ModeChange[] = [];
  for (const { path, dir } of paths) {
    let mode: number;
    try {
      mode = statSync(path).mode & 0o777;
    } catch {
      continue; // not there (yet)
    }
    if ((mode & 0o077) === 0) continue;
    if (dir) {
      changes.push({ path, from: mode, to: PRIVATE_DIR_MODE, changed: false });
      continue;
    }
    try {
      chmodSync(path, PRIVATE_FILE_MODE);
      changes.push({ path, from: mode, to: PRIVATE_FILE_MODE, changed: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code ?? 'chmod failed';
      changes.push({ path, from: mode, to: PRIVATE_FILE_MODE, changed: false, error: code });
    }
  }
  return changes;
}

/** The SQLite database and the files SQLite keeps beside it. */
export function sqliteFiles(databasePath: string): string[] {
  return [databasePath, `${databasePath}-wal`, `${databasePath}-shm`, `${databasePath}-journal`];
}
