// The browser tests' Chromium, found without set-up: TESSERA_CHROMIUM, else the system's, else playwright's own
// download if one is there, else the Chromium that the `@sparticuz/chromium` devDependency carries inside its npm
// tarball (brotli-packed; unpacked once into node_modules/.cache). When none can be had the tests fail, saying
// what to do: they never skip.
import { spawnSync } from 'node:child_process';
import {
  accessSync,
  constants,
  createReadStream,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { delimiter, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createBrotliDecompress } from 'node:zlib';
import { type Browser, chromium } from 'playwright-core';

/** The flags every browser test runs Chromium with (headless, as root, on a machine with no outside network). */
export const CHROMIUM_ARGS: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
];

/** What to do when no Chromium can be had; every failure message of this module ends with it. */
export const CHROMIUM_REMEDY =
  'install one (`apt-get install -y chromium` on Debian/Ubuntu) or set TESSERA_CHROMIUM to a Chromium or Chrome executable';

/** A Chromium to launch: its executable, where it was found, and the environment it needs. */
export interface FoundChromium {
  readonly executablePath: string;
  /** `TESSERA_CHROMIUM`, `system`, `playwright` or `@sparticuz/chromium`. */
  readonly source: string;
  /** Extra environment for the browser process (the packed Chromium's own libraries and fonts). */
  readonly env: Readonly<Record<string, string>>;
}

/** Options of {@link findChromium}; the defaults are the real machine's. */
export interface FindChromiumOptions {
  /** Environment to read `TESSERA_CHROMIUM` and `PATH` from; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Absolute paths tried before `PATH`; default the usual Linux locations. */
  readonly systemPaths?: readonly string[];
  /** Whether to look at playwright's download cache and at `@sparticuz/chromium`; default true. */
  readonly packaged?: boolean;
}

const SYSTEM_PATHS = [
  '/usr/bin/chromium',
  '/usr/bin/chromium-browser',
  '/usr/bin/google-chrome',
  '/usr/bin/google-chrome-stable',
  '/snap/bin/chromium',
];
const PATH_NAMES = ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'];

/** Finds a Chromium (see the module comment for the order), or throws an error that says what to do. */
export async function findChromium(options: FindChromiumOptions = {}): Promise<FoundChromium> {
  const env = options.env ?? process.env;
  const chosen = env.TESSERA_CHROMIUM;
  if (chosen !== undefined && chosen !== '') {
    if (!isExecutableFile(chosen)) {
      throw new Error(`TESSERA_CHROMIUM=${chosen} is not an executable file: ${CHROMIUM_REMEDY}`);
    }
    return { executablePath: chosen, source: 'TESSERA_CHROMIUM', env: {} };
  }
  const onPath = (env.PATH ?? '')
    .split(delimiter)
    .filter((dir) => dir !== '')
    .flatMap((dir) => PATH_NAMES.map((name) => join(dir, name)));
  const system = [...(options.systemPaths ?? SYSTEM_PATHS), ...onPath].find(isExecutableFile);
  if (system !== undefined) return { executablePath: system, source: 'system', env: {} };
  if (options.packaged ?? true) {
    const downloaded = playwrightDownload();
    if (downloaded !== undefined) return { executablePath: downloaded, source: 'playwright', env: {} };
    const packed = await unpackSparticuz();
    if (packed !== undefined) return packed;
  }
  throw new Error(`no Chromium found (TESSERA_CHROMIUM unset, none installed, no packaged one): ${CHROMIUM_REMEDY}`);
}

/** Launches the found Chromium headless with {@link CHROMIUM_ARGS}; a failure says which one and what to do. */
export async function launchTestChromium(): Promise<Browser> {
  const found = await findChromium();
  try {
    return await chromium.launch({
      executablePath: found.executablePath,
      args: [...CHROMIUM_ARGS],
      env: { ...process.env, ...found.env },
    });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new Error(`Chromium ${found.executablePath} (${found.source}) did not start: ${reason}; ${CHROMIUM_REMEDY}`);
  }
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** The browser playwright-core would download for itself (`npx playwright install`), when it is there. */
function playwrightDownload(): string | undefined {
  try {
    const path = chromium.executablePath();
    return isExecutableFile(path) ? path : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Unpacks `@sparticuz/chromium` (a headless Chromium built for serverless Linux x64, with the NSS libraries it
 * links against) into node_modules/.cache/tessera-chromium-<version>. The package's own executablePath() would
 * unpack into /tmp itself and use its libraries only on AWS, so the few steps are done here.
 */
async function unpackSparticuz(): Promise<FoundChromium | undefined> {
  if (process.platform !== 'linux' || process.arch !== 'x64') return undefined;
  let packageDir: string;
  try {
    // Resolves build/cjs/index.cjs; the package root is three levels up.
    packageDir = dirname(dirname(dirname(createRequire(import.meta.url).resolve('@sparticuz/chromium'))));
  } catch {
    return undefined;
  }
  const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };
  const target = join(packageDir, '..', '..', '.cache', `tessera-chromium-${version}`);
  const found = (): FoundChromium => ({
    executablePath: join(target, 'chromium'),
    source: '@sparticuz/chromium',
    env: { LD_LIBRARY_PATH: join(target, 'lib'), FONTCONFIG_PATH: join(target, 'fonts') },
  });
  if (existsSync(join(target, 'chromium'))) return found();
  // Test files unpack in parallel: each into its own directory, and the first rename wins.
  const work = `${target}.${process.pid}.tmp`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(join(work, 'fonts'), { recursive: true });
  try {
    const bin = join(packageDir, 'bin');
    await pipeline(
      createReadStream(join(bin, 'chromium.br')),
      createBrotliDecompress(),
      createWriteStream(join(work, 'chromium'), { mode: 0o755 }),
    );
    await untarBrotli(join(bin, 'al2023.tar.br'), work); // lib/: libnss3 and friends
    await untarBrotli(join(bin, 'fonts.tar.br'), join(work, 'fonts'));
    writeFileSync(
      join(work, 'fonts', 'fonts.conf'),
      `<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig><dir>${join(target, 'fonts', 'fonts')}</dir><cachedir>${join(target, 'fonts', 'cache')}</cachedir></fontconfig>\n`,
    );
    try {
      renameSync(work, target);
    } catch (error) {
      if (!existsSync(join(target, 'chromium'))) throw error;
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
  return found();
}

async function untarBrotli(archive: string, into: string): Promise<void> {
  const tar = spawnSync('tar', ['-x', '--no-same-owner', '-C', into], {
    input: await readBrotli(archive),
    stdio: ['pipe', 'ignore', 'pipe'],
  });
  if (tar.status !== 0) throw new Error(`tar could not unpack ${archive}: ${tar.stderr?.toString().trim()}`);
}

async function readBrotli(file: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  await pipeline(createReadStream(file), createBrotliDecompress(), async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) chunks.push(chunk);
  });
  return Buffer.concat(chunks);
}
