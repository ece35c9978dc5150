import { apiBenchmarks } from '/work/main/bench/api.bench.js';
console.log((await apiBenchmarks()).join('\n'));
