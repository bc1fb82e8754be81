import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import type { DemoOidcSettings } from '../config/token-service-options.js';
import { TokenServiceError } from '../errors/token-service-error.js';

/** What the demo page needs to know. */
export interface DemoSettings {
  readonly oidc: DemoOidcSettings | undefined;
  readonly anonymous: boolean;
}

interface EsbuildLike {
  build(options: Record<string, unknown>): Promise<{ outputFiles?: { text: string }[] }>;
}

const HTML_PATH = fileURLToPath(new URL('../../demo/index.html', import.meta.url));

function browserEntry(): string {
  // From dist/ the compiled .js is bundled; from src/ (tests running the sources) the .ts file is.
  for (const name of ['./browser/demo-app.js', './browser/demo-app.ts']) {
    const path = fileURLToPath(new URL(name, import.meta.url));
    if (existsSync(path)) return path;
  }
  throw new TokenServiceError('ERR_DEMO_UNAVAILABLE', 'The demo page script is missing from this installation.');
}

let bundle: Promise<string> | undefined;

/** Bundles the demo script (the `@tessera/client` credential included) with esbuild, once per process. */
export function demoBundle(): Promise<string> {
  bundle ??= (async () => {
    let esbuild: EsbuildLike;
    try {
      const name = 'esbuild';
      esbuild = (await import(name)) as EsbuildLike;
    } catch {
      throw new TokenServiceError('ERR_DEMO_UNAVAILABLE', 'The demo page needs esbuild (npm install esbuild).');
    }
    const result = await esbuild.build({
      entryPoints: [browserEntry()],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    });
    const text = result.outputFiles?.[0]?.text;
    if (text === undefined) throw new TokenServiceError('ERR_DEMO_UNAVAILABLE', 'Bundling the demo page failed.');
    return text;
  })().catch((error: unknown) => {
    bundle = undefined;
    throw error instanceof TokenServiceError
      ? error
      : new TokenServiceError('ERR_DEMO_UNAVAILABLE', 'Bundling the demo page failed.');
  });
  return bundle;
}

function csp(settings: DemoSettings): string {
  const issuerOrigin = settings.oidc === undefined ? '' : ` ${new URL(settings.oidc.issuer).origin}`;
  return [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self'${issuerOrigin}`,
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Serves the demo page at `demo/` under the plugin's prefix. */
export function registerDemoRoutes(app: FastifyInstance, settings: DemoSettings): void {
  let html: string | undefined;
  app.get('/demo', async (_request, reply) => reply.redirect('demo/', 302));
  app.get('/demo/', async (_request, reply) => {
    html ??= readFileSync(HTML_PATH, 'utf8');
    return reply.type('text/html; charset=utf-8').header('content-security-policy', csp(settings)).send(html);
  });
  app.get('/demo/demo.css', async (_request, reply) =>
    reply
      .type('text/css; charset=utf-8')
      .send(readFileSync(fileURLToPath(new URL('../../demo/demo.css', import.meta.url)), 'utf8')),
  );
  app.get('/demo/app.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(await demoBundle()),
  );
  app.get('/demo/config.json', async () => ({
    anonymous: settings.anonymous,
    oidc: settings.oidc ?? null,
  }));
}
