// The main entry must run in any runtime with WebCrypto and fetch: no Node built-ins, no framework imports.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { CONNECTION_STRING, FakeIdentityServer, mint, newRawId, T0 } from './helpers/fake-identity-server.js';

const pkgDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const dist = join(pkgDir, 'dist');
const require = createRequire(import.meta.url);

/** Every module the given dist file reaches through relative imports, with its bare imports. */
function importGraph(entry: string): { files: string[]; bare: Set<string> } {
  const files: string[] = [];
  const bare = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop() as string;
    if (files.includes(file)) continue;
    files.push(file);
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(
      /(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g,
    )) {
      const spec = (m[1] ?? m[2]) as string;
      if (spec.startsWith('.')) pending.push(resolve(dirname(file), spec));
      else bare.add(spec);
    }
  }
  return { files, bare };
}

describe('entry points', () => {
  it('package.json exports the main, node, fastify and express entries', () => {
    const pkg = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8')) as { exports: Record<string, unknown> };
    expect(Object.keys(pkg.exports)).toEqual(['.', './node', './fastify', './express']);
    for (const sub of ['', '/node', '/fastify', '/express']) {
      expect(require.resolve(`@tessera/verifier${sub}`)).toMatch(/packages\/verifier\/dist\//);
    }
  });

  it('the main entry imports only @tessera/core and its own files: no node:*, no fastify, no express', () => {
    const { files, bare } = importGraph(join(dist, 'index.js'));
    expect([...bare]).toEqual(['@tessera/core']);
    const names = files.map((f) => f.slice(dist.length + 1));
    expect(names).not.toContain('node.js');
    expect(names).not.toContain('fastify.js');
    expect(names).not.toContain('express.js');
    for (const f of files) {
      const code = readFileSync(f, 'utf8');
      expect(code, f).not.toMatch(/\bBuffer\b|\bprocess\.|\brequire\(/);
    }
  });

  it('bundles for the browser platform and verifies a token in a sandbox that has only web APIs', async () => {
    const out = await build({
      entryPoints: [join(dist, 'index.js')],
      bundle: true,
      platform: 'browser',
      format: 'iife',
      globalName: 'TesseraVerifier',
      write: false,
      logLevel: 'silent',
    });
    const code = out.outputFiles[0]?.text ?? '';
    const idp = new FakeIdentityServer();
    const sandbox = {
      crypto: globalThis.crypto,
      TextEncoder,
      TextDecoder,
      atob,
      URL,
      Headers,
      Request,
      Response,
      ReadableStream,
      AbortController,
      DOMException,
      setTimeout,
      clearTimeout,
      fetch: idp.fetch,
      console,
    } as Record<string, unknown>;
    vm.createContext(sandbox);
    vm.runInContext(code, sandbox);
    const mod = sandbox.TesseraVerifier as typeof import('@tessera/verifier');
    expect(vm.runInContext('typeof Buffer + typeof process + typeof require', sandbox)).toBe(
      'undefinedundefinedundefined',
    );
    const verifier = mod.createVerifier({ connectionString: CONNECTION_STRING, clock: () => T0 });
    try {
      await verifier.ready();
      const me = newRawId();
      const v = await verifier.verify(mint({ key: idp.key, rawId: me, scopes: ['voip.join'] }));
      expect(v.identity).toBe(me);
      expect(idp.feedRequests[0]?.signatureValid).toBe(true); // WebCrypto HMAC in the sandbox
      expect(verifier.authorize(v, 'voip.call.start').allowed).toBe(false);
    } finally {
      await verifier.close();
    }
  });
});
