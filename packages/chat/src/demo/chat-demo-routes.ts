import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import { ChatError } from '../errors.js';

/** Options of the chat demo page (`ChatPluginOptions.demo`, docs/chat.md#demo). */
export interface ChatDemoOptions {
  /** The token service's base URL (`https://…/`): where the page signs in. It must allow this origin (CORS). */
  readonly tokenService: string;
}

interface EsbuildLike {
  build(options: Record<string, unknown>): Promise<{ outputFiles?: { text: string }[] }>;
}

const DEMO_DIR = new URL('../../demo/', import.meta.url);

let bundle: Promise<string> | undefined;

/** Bundles the page script (the official chat SDK and @tessera/client included) with esbuild, once per process. */
function demoBundle(): Promise<string> {
  bundle ??= (async () => {
    const entry = fileURLToPath(new URL('chat-demo-app.ts', DEMO_DIR));
    if (!existsSync(entry)) throw new Error('missing');
    const name = 'esbuild';
    const esbuild = (await import(name)) as EsbuildLike;
    const result = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      write: false,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      logLevel: 'silent',
    });
    const text = result.outputFiles?.[0]?.text;
    if (text === undefined) throw new Error('empty');
    return text;
  })().catch(() => {
    bundle = undefined;
    throw new ChatError('ERR_CHAT_DEMO_UNAVAILABLE');
  });
  return bundle;
}

/** Serves the chat demo page at `/chat-demo/` (same origin as the chat API: no CORS needed for chat). */
export function registerChatDemoRoutes(app: FastifyInstance, options: ChatDemoOptions): void {
  const tokenService = new URL(options.tokenService).toString();
  const csp = [
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    `connect-src 'self' ${new URL(tokenService).origin}`,
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  app.get('/chat-demo/', async (_request, reply) =>
    reply
      .type('text/html; charset=utf-8')
      .header('content-security-policy', csp)
      .send(readFileSync(fileURLToPath(new URL('index.html', DEMO_DIR)), 'utf8')),
  );
  app.get('/chat-demo/chat-demo.css', async (_request, reply) =>
    reply.type('text/css; charset=utf-8').send(readFileSync(fileURLToPath(new URL('chat-demo.css', DEMO_DIR)), 'utf8')),
  );
  app.get('/chat-demo/app.js', async (_request, reply) =>
    reply.type('text/javascript; charset=utf-8').send(await demoBundle()),
  );
  app.get('/chat-demo/config.json', async () => ({ tokenService }));
}
