#!/usr/bin/env node
// One ONNX Runtime measurement for bench/run_benchmarks.py: loads a model with full graph optimisation
// (ORT as people deploy it), runs warm-up + N timed runs on random inputs, prints one JSON line.
//   node bench/ort_runner.js MODEL THREADS WARMUP ITERATIONS [NAME=1,3,640,640 ...]
'use strict';
const path = require('path');
const baselineRss = process.resourceUsage().maxRSS / 1024;  // Node itself, before ORT is loaded (MiB)
const ortDirectory = process.env.NPUKIT_ORT_DIR || path.resolve(__dirname, '..', 'third_party', 'ort');
const ort = require(path.join(ortDirectory, 'node_modules', 'onnxruntime-node'));

async function main() {
  const [model, threads, warmup, iterations, ...shapeArguments] = process.argv.slice(2);
  const shapes = {};
  for (const argument of shapeArguments) {
    const [name, dims] = argument.split('=');
    shapes[name] = dims.split(',').map(Number);
  }
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: Number(threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  const feeds = {};
  const metadata = session.inputMetadata || [];
  for (let i = 0; i < session.inputNames.length; ++i) {
    const name = session.inputNames[i];
    let dims = shapes[name];
    if (!dims) {
      const declared = metadata[i] && metadata[i].shape;
      if (!declared) throw new Error(`input ${name}: give its shape as ${name}=1,3,H,W`);
      dims = declared.map((d) => (typeof d === 'number' && d > 0 ? d : 1));
    }
    const count = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(count);
    for (let j = 0; j < count; ++j) data[j] = Math.random();
    feeds[name] = new ort.Tensor('float32', data, dims);
  }
  for (let i = 0; i < Number(warmup); ++i) await session.run(feeds);
  const times = [];
  for (let i = 0; i < Number(iterations); ++i) {
    const started = process.hrtime.bigint();
    await session.run(feeds);
    times.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  times.sort((a, b) => a - b);
  const median = times.length % 2 ? times[(times.length - 1) / 2] : (times[times.length / 2 - 1] + times[times.length / 2]) / 2;
  console.log(JSON.stringify({ median_ms: median, min_ms: times[0], peak_rss_mib: process.resourceUsage().maxRSS / 1024,
                               node_baseline_rss_mib: baselineRss }));
}
main().catch((error) => { console.error(String(error)); process.exit(1); });
