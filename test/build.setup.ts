/**
 * Builds dist/ (and the dashboard in dist/web) once before the suite, so the binary test runs what `npm install`
 * would ship. A type error does not stop the suite here: tsc still emits, the
 * tests of other files still run, and `npm test` fails on it in its typecheck step.
 */
import { spawnSync } from 'node:child_process';

export default function setup(): void {
  const build = spawnSync(
    process.execPath,
    ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'],
    { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' },
  );
  if (build.status !== 0)
    console.warn(
      `build of dist/ reported type errors (npm test's typecheck fails on them):\n${build.stdout}`,
    );
  // The dashboard, into dist/web: the browser tests load it from a real demo.
  const web = spawnSync(process.execPath, ['node_modules/vite/bin/vite.js', 'build', 'web'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    encoding: 'utf8',
  });
  if (web.status !== 0)
    throw new Error(`the dashboard's build (vite build web) failed:\n${web.stdout}`);
}
