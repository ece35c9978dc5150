/** `npm run bench`: every benchmark, written to BENCHMARKS.md with the machine and the command. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, release, totalmem, type as osType } from 'node:os';
import { apiBenchmarks } from './api.bench.js';
import { awsBenchmarks } from './aws.bench.js';
import { awsServeBenchmarks } from './aws-serve.bench.js';
import { bucketBenchmarks } from './buckets.bench.js';
import { engineBenchmarks } from './engine.bench.js';
import { planBenchmarks } from './plan.bench.js';
import { savingsBenchmarks } from './savings.bench.js';

const sections = [
  await planBenchmarks(),
  await engineBenchmarks(),
  [...(await awsBenchmarks()), '', ...(await awsServeBenchmarks())],
  await bucketBenchmarks(),
  await apiBenchmarks(),
  await savingsBenchmarks(),
];
const lines = [
  '# Benchmarks',
  '',
  'Written by `npm run bench` (bench/run.ts). Performance targets are met here, never in timed tests.',
  '',
  `Machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ${Math.round(totalmem() / 2 ** 30)} GiB, ${osType()} ${release()}, Node.js ${process.version}.`,
  `Run: ${new Date().toISOString().slice(0, 10)}.`,
  '',
  ...sections.flatMap((section) => [...section, '']),
  ...keptSections(),
];
writeFileSync('BENCHMARKS.md', lines.join('\n'));
process.stdout.write(`${lines.join('\n')}\n`);

/**
 * Sections other commands write (`npm run chaos -- --write` appends the crash-storm
 * figures, `npm run bench:export -- --write` the events export's, which take minutes):
 * kept as they are, from the crash storm's on.
 */
function keptSections(): string[] {
  if (!existsSync('BENCHMARKS.md')) return [];
  const text = readFileSync('BENCHMARKS.md', 'utf8');
  const start = text.indexOf('\n## Crash storm and racing replicas');
  return start === -1 ? [] : [text.slice(start + 1).trimEnd(), ''];
}
