/**
 * `npm run build`: the production build. Type-checks `src/` and `workers/` with tsc, then bundles
 * each operator command into `dist/` (same paths tsc would give, with source maps), so nothing
 * compiles TypeScript at start.
 *
 * Why a bundle and not tsc's output: drizzle-orm ships a 179 KB package.json (447 `exports`
 * entries), and Node 24's ESM loader re-reads it for each of the package's modules it loads —
 * about 150 MB of heap and 100 MB of RSS at start, which a worker then keeps (measured in
 * docs/performance.md). Bundled, drizzle's modules are loaded once, as plain code. Every other
 * dependency stays in node_modules (`npm ci --omit=dev` installs them): pino's transports,
 * BullMQ's Lua scripts and the xmlrpc serializer are loaded from their packages' files.
 *
 * The test setup and the benches bundle with the same options (`bundleOptions`), so what they
 * start runs as the product does.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

/** The operator commands: what the image's entrypoint and the `start:*` scripts run. */
export const ENTRY_POINTS = [
  'src/server.ts',
  'workers/main.ts',
  'src/cli/migrate.ts',
  'workers/sync-cli.ts',
  'src/cli/apikey.ts',
];

/** Dependencies bundled into dist/ instead of loaded from node_modules (see above). */
const BUNDLED = new Set(['drizzle-orm']);

/** How an entry point is bundled: the production dependencies but drizzle-orm stay external. */
export function bundleOptions(entryPoints: string[], outdir: string): BuildOptions {
  const { dependencies } = JSON.parse(readFileSync('package.json', 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const external = Object.keys(dependencies)
    .filter((name) => !BUNDLED.has(name))
    .flatMap((name) => [name, `${name}/*`]);
  return {
    entryPoints,
    outbase: '.',
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    external,
    sourcemap: true,
    // Stack traces name the original file and line; the sources themselves are not shipped.
    sourcesContent: false,
    logLevel: 'warning',
  };
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const require = createRequire(import.meta.url);
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--noEmit'],
    { stdio: 'inherit' },
  );
  await build(bundleOptions(ENTRY_POINTS, 'dist'));
  process.stdout.write(`built ${ENTRY_POINTS.length} commands into dist/\n`);
}
