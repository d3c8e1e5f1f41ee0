/**
 * How the package's `start:*` scripts start a command — the environment and Node options the
 * image runs it with — so that a bench or the chaos run starts the bundled commands as a
 * deployment does.
 */
import { readFileSync } from 'node:fs';

/** How `npm run <script>` starts its command: its environment and Node options. */
export function productionCommand(
  script: 'start' | 'start:worker' | 'start:sync' | 'start:migrate',
): {
  env: Record<string, string>;
  nodeArgs: string[];
} {
  const { scripts } = JSON.parse(readFileSync('package.json', 'utf8')) as {
    scripts: Record<string, string>;
  };
  const words = scripts[script]!.split(/\s+/);
  const node = words.indexOf('node');
  return {
    env: Object.fromEntries(
      words.slice(0, node).map((word) => word.split('=') as [string, string]),
    ),
    nodeArgs: words
      .slice(node + 1)
      .filter((word) => word.startsWith('--') && !word.startsWith('--env-file')),
  };
}
