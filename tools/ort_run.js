#!/usr/bin/env node
// Runs one model once with ONNX Runtime (graph optimisations off, as ort_reference.js) on .npy inputs and
// writes every graph output as .npy, plus index.json mapping each output name to its file (names are not
// file-safe). tools/compare_layers.py uses it on a copy of a model whose intermediates are outputs.
// --optimization all: ORT's default graph optimisations, i.e. how ORT really executes a QDQ model (its QDQ
// groups fused into QLinearConv / QLinearMatMul / ...); the int8 cpu backend is compared with that.
//
//   node tools/ort_run.js MODEL.onnx OUTPUT_DIR NAME=FILE.npy [NAME=FILE.npy ...] [--threads N] [--optimization all]
'use strict';
const fs = require('fs');
const path = require('path');
const { writeNpy, readNpy } = require('./npy');

const repository = path.resolve(__dirname, '..');
const ort = require(path.join(repository, 'third_party', 'ort', 'node_modules', 'onnxruntime-node'));

async function main() {
  const argv = process.argv.slice(2);
  let threads = 2;
  let optimization = 'disabled';
  const positional = [];
  for (let i = 0; i < argv.length; ++i) {
    if (argv[i] === '--threads') threads = Number(argv[++i]);
    else if (argv[i] === '--optimization') optimization = argv[++i];
    else positional.push(argv[i]);
  }
  if (positional.length < 2) throw new Error('usage: ort_run.js MODEL.onnx OUTPUT_DIR NAME=FILE.npy ... [--threads N]');
  const [modelPath, directory, ...inputArguments] = positional;
  const session = await ort.InferenceSession.create(modelPath, {
    graphOptimizationLevel: optimization, intraOpNumThreads: threads, interOpNumThreads: 1,
  });
  const feeds = {};
  for (const argument of inputArguments) {
    const equals = argument.indexOf('=');
    if (equals < 0) throw new Error(`input '${argument}': expected NAME=FILE.npy`);
    const name = argument.slice(0, equals);
    const array = readNpy(argument.slice(equals + 1));
    feeds[name] = new ort.Tensor(array.type, array.data, array.shape);
  }
  const results = await session.run(feeds);
  fs.mkdirSync(directory, { recursive: true });
  const index = {};
  session.outputNames.forEach((name, position) => {
    const tensor = results[name];
    const file = path.join(directory, `output_${position}.npy`);
    writeNpy(file, tensor.type, tensor.dims, tensor.data);
    index[name] = file;
  });
  fs.writeFileSync(path.join(directory, 'index.json'), JSON.stringify(index, null, 1) + '\n');
  await session.release();
}

main().catch((error) => { console.error(`ort_run.js: ${error.message}`); process.exit(1); });
