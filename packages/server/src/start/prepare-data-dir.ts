import { join, resolve as resolvePath } from 'node:path';
import type { Logger } from 'pino';
import { TesseraError } from '@tessera/core';
import type { ResolvedServerOptions } from '../config/server-options.js';
import { type DevCertificates, ensureDevCertificates } from '../crypto/dev-ca.js';
import { makePrivateDir, sqliteFiles, tightenModes } from '../store/private-files.js';

/** What {@link prepareDataDir} hands on: the TLS certificate to serve, if any. */
export interface PreparedDataDir {
  /** Serve HTTPS with this certificate chain and key (PEM): `--tls-cert/--tls-key` or the development CA's. */
  readonly https: { readonly cert: string; readonly key: string } | undefined;
  /** With `tlsDev`: the development certificates (and the CA path clients must trust). */
  readonly devTls: DevCertificates | undefined;
}

/**
 * Files at rest: tightens the database, key and development-CA key files to 0600 where an older version or a copy left
 * them readable by others, and warns about a data dir (or its tls folder) open to others; one line per path.
 */
function warnLooseModes(logger: Logger, options: ResolvedServerOptions): void {
  const tls = join(options.dataDir, 'tls');
  const findings = tightenModes([
    { path: options.dataDir, dir: true },
    ...(options.store.kind === 'sqlite' ? sqliteFiles(options.store.path).map((path) => ({ path, dir: false })) : []),
    { path: join(options.dataDir, 'master.key'), dir: false },
    { path: tls, dir: true },
    { path: join(tls, 'dev-ca.key'), dir: false },
    { path: join(tls, 'localhost.key'), dir: false },
  ]);
  for (const f of findings) {
    const fields = {
      path: f.path,
      mode: f.from.toString(8),
      private: f.to.toString(8),
      ...(f.error ? { error: f.error } : {}),
    };
    if (f.changed) logger.warn(fields, 'data file was readable by other users: its mode is now private');
    else logger.warn(fields, `readable by other users: run chmod ${f.to.toString(8)} on it`);
  }
}

/** Start-up step: creates the data dir (private), tightens file modes, and resolves the TLS certificate. */
export function prepareDataDir(options: ResolvedServerOptions, logger: Logger): PreparedDataDir {
  // Node's recursive mkdir never returns under procfs/sysfs: refuse those before trying.
  if (/^\/(proc|sys)(\/|$)/.test(resolvePath(options.dataDir))) {
    throw new TesseraError('ERR_CONFIG_INVALID', `Invalid --data-dir: ${options.dataDir} is inside /proc or /sys.`, {
      target: 'data-dir',
    });
  }
  try {
    makePrivateDir(options.dataDir);
  } catch (cause) {
    throw new TesseraError('ERR_CONFIG_INVALID', `Invalid --data-dir: cannot create the folder ${options.dataDir}.`, {
      target: 'data-dir',
      cause,
    });
  }
  warnLooseModes(logger, options);
  const devTls = options.tls?.kind === 'dev' ? ensureDevCertificates(options.dataDir) : undefined;
  if (devTls !== undefined && !devTls.constrained) {
    logger.warn(
      { caPath: devTls.caPath },
      'the development CA predates name constraints and can sign for any host; delete the tls folder of the data dir to get a constrained one (then trust it again)',
    );
  }
  const https = options.tls?.kind === 'files' ? { cert: options.tls.cert, key: options.tls.key } : devTls;
  return { https, devTls };
}
