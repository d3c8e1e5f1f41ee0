/**
 * `npm run build`: the production build. Type-checks `src/` and `workers/` with tsc, then bundles
 * each operator command into `dist/` (same paths tsc would give, with source maps), so nothing
 * compiles TypeScript at start.
 *
 * Why a bundle and not tsc's output: drizzle-orm ships a 179 KB package.json (447 `exports`
 * entries), and Node 24's ESM loader re-reads it for each of the package's modules it loads —
 * about 150 MB of heap and 100 MB of RSS at start, which a worker then keeps (measured in
 * docs/performance.md). Bundled, a package's modules are loaded as one file of plain code, with
 * no resolution, no file read and no module record of their own: a command starts in less CPU and
 * less memory ("A fresh process" there). The sync's processes, started by the hundred in a
 * deployment's day and the suite, bundle every dependency but those that load files of their own
 * at run time. The other commands run with source maps, whose map is parsed whole at the first
 * stack trace and kept: they bundle drizzle-orm alone, and their map stays their own code's.
 * What is not bundled stays in node_modules (`npm ci --omit=dev` installs it).
 *
 * The test setup and the benches bundle with the same options (`bundleCommands`, `bundleOptions`),
 * so what they start runs as the product does.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { build, type BuildOptions } from 'esbuild';

/** The sync's processes: run without source maps (the entrypoint, `start:worker`, `start:sync`). */
const SYNC_COMMANDS = ['workers/main.ts', 'workers/sync-cli.ts'];
/** The other operator commands, run with `--enable-source-maps`. */
const MAPPED_COMMANDS = ['src/server.ts', 'src/cli/migrate.ts', 'src/cli/apikey.ts'];

/**
 * The packages that load files of their own by path or by name at run time, which a bundle would
 * not hold: pino starts its transports (pino-pretty) in worker threads by module name; the xmlrpc
 * serializer is required by its path (src/clients/odoo/xmlrpc-transport.ts); pg and BullMQ's
 * msgpackr try their optional native builds.
 */
const LOAD_OWN_FILES = ['pino', 'pino-pretty', 'xmlrpc', 'pg', 'msgpackr'];

/**
 * A bundled CommonJS package may call `require` (of Node's own modules, or of an external
 * package) and read `__filename`, which an ES module has not: they are made from the bundle's URL.
 */
const COMMONJS_GLOBALS = [
  "import { createRequire as __bundleRequire } from 'node:module';",
  "import { fileURLToPath as __bundlePath } from 'node:url';",
  'const require = __bundleRequire(import.meta.url);',
  'const __filename = __bundlePath(import.meta.url);',
  "const __dirname = __bundlePath(new URL('.', import.meta.url));",
].join('\n');

/**
 * How entry points are bundled: with every dependency but LOAD_OWN_FILES inside, or (`mapped`,
 * for a command run with source maps) with drizzle-orm alone.
 */
export function bundleOptions(
  entryPoints: string[],
  outdir: string,
  packages: 'inside' | 'mapped' = 'inside',
): BuildOptions {
  const { dependencies } = JSON.parse(readFileSync('package.json', 'utf8')) as {
    dependencies: Record<string, string>;
  };
  const external = (
    packages === 'inside'
      ? LOAD_OWN_FILES
      : Object.keys(dependencies).filter((name) => name !== 'drizzle-orm')
  ).flatMap((name) => [name, `${name}/*`]);
  return {
    entryPoints,
    outbase: '.',
    outdir,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node24',
    external,
    banner: { js: COMMONJS_GLOBALS },
    sourcemap: true,
    // Stack traces name the original file and line; the sources themselves are not shipped.
    sourcesContent: false,
    logLevel: 'warning',
  };
}

/** Bundles every operator command into `outdir`, laid out as dist/. */
export async function bundleCommands(outdir: string): Promise<number> {
  await Promise.all([
    build(bundleOptions(SYNC_COMMANDS, outdir)),
    build(bundleOptions(MAPPED_COMMANDS, outdir, 'mapped')),
  ]);
  return SYNC_COMMANDS.length + MAPPED_COMMANDS.length;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const require = createRequire(import.meta.url);
  execFileSync(
    process.execPath,
    [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json', '--noEmit'],
    { stdio: 'inherit' },
  );
  const commands = await bundleCommands('dist');
  process.stdout.write(`built ${String(commands)} commands into dist/\n`);
}
