/** The version in package.json, found from the sources or the build. */
import { readFileSync } from 'node:fs';

export function packageVersion(): string {
  for (const relative of ['../../package.json', '../../../package.json']) {
    try {
      const { version } = JSON.parse(readFileSync(new URL(relative, import.meta.url), 'utf8')) as {
        version?: string;
      };
      if (version) return version;
    } catch {
      // not at this depth: try the next
    }
  }
  return '0.0.0';
}
