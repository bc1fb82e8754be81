// Bundles a test page script (and what it imports: @tessera/client, the official Azure SDKs) for Chromium.
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

/** The page script at `entry` (a file URL) as one ES module. */
export async function bundlePage(entry: URL): Promise<string> {
  const bundle = await build({
    entryPoints: [fileURLToPath(entry)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'browser',
    target: 'chrome110',
    logLevel: 'silent',
  });
  return bundle.outputFiles[0]?.text ?? '';
}
