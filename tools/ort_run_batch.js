#!/usr/bin/env node
// Runs one model with ONNX Runtime (graph optimisations at ORT's default, as a user would) once per sample of a
// batch .npy (split along axis 0 into batch-1 inputs) and writes the first output of every run stacked along
// axis 0. For evaluation scripts (tools/quantize_ocr_accuracy.py) that would otherwise start one node process
// per sample.
//
//   node tools/ort_run_batch.js MODEL.onnx INPUT_NAME BATCH.npy OUT.npy [--threads N]
'use strict';
const path = require('path');
const { writeNpy, readNpy } = require('./npy');

const repository = path.resolve(__dirname, '..');
const ort = require(path.join(repository, 'third_party', 'ort', 'node_modules', 'onnxruntime-node'));

async function main() {
  const argv = process.argv.slice(2);
  let threads = 1;
  const positional = [];
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--threads') threads = Number(argv[++i]);
    else positional.push(argv[i]);
  }
  if (positional.length !== 4) throw new Error('usage: ort_run_batch.js MODEL.onnx INPUT_NAME BATCH.npy OUT.npy [--threads N]');
  const [modelPath, inputName, batchPath, outputPath] = positional;
  const session = await ort.InferenceSession.create(modelPath, { intraOpNumThreads: threads, interOpNumThreads: 1 });
  const batch = readNpy(batchPath);
  const count = batch.shape[0];
  const sampleShape = [1, ...batch.shape.slice(1)];
  const sampleSize = sampleShape.reduce((a, b) => a * b, 1);
  let outputs = null;
  let outputShape = null;
  for (let index = 0; index < count; ++index) {
    const data = batch.data.subarray(index * sampleSize, (index + 1) * sampleSize);
    const results = await session.run({ [inputName]: new ort.Tensor(batch.type, data, sampleShape) });
    const tensor = results[session.outputNames[0]];
    if (!outputs) {
      outputShape = [count, ...tensor.dims.slice(1)];
      outputs = new Float32Array(count * tensor.data.length);
    }
    outputs.set(tensor.data, index * tensor.data.length);
  }
  writeNpy(outputPath, 'float32', outputShape, outputs);
  await session.release();
}

main().catch((error) => { console.error(`ort_run_batch.js: ${error.message}`); process.exit(1); });
