#!/usr/bin/env node
// Runs every model of a list with ONNX Runtime (the oracle) on fixed-seed inputs and writes the inputs and
// every output as .npy, plus models/reference/manifest.json for tests/whole_model_test.cpp.
//
//   node tools/ort_reference.js [--list tools/reference_models.json] [--models models] [--threads 2]
//
// onnxruntime-node is installed under third_party/ort by tools/make_models.sh. Graph optimisations are off so
// ORT computes the graph as written (its fusions reorder floating-point work).
'use strict';
const fs = require('fs');
const path = require('path');
const { writeNpy, readNpy } = require('./npy');

const repository = path.resolve(__dirname, '..');
const ort = require(path.join(repository, 'third_party', 'ort', 'node_modules', 'onnxruntime-node'));

function parseArguments() {
  const options = { list: path.join(__dirname, 'reference_models.json'), models: path.join(repository, 'models'), threads: 2 };
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '');
    if (!(key in options) || i + 1 >= argv.length) throw new Error(`usage: ort_reference.js [--list F] [--models D] [--threads N] (bad '${argv[i]}')`);
    options[key] = key === 'threads' ? Number(argv[i + 1]) : path.resolve(argv[i + 1]);
  }
  return options;
}

// mulberry32: a small seeded generator, so inputs are the same on every machine and every run.
function seededRandom(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function seedFromName(name) {  // FNV-1a
  let hash = 0x811c9dc5;
  for (const character of name) hash = Math.imul(hash ^ character.charCodeAt(0), 0x01000193) >>> 0;
  return hash;
}

// Paper-coloured background with a soft gradient and dark glyph-like strokes arranged in lines of text,
// plus sensor noise: enough structure for an OCR detector or recogniser to respond to.
function drawTextImage(height, width, random, lineHeight) {
  const gray = new Float32Array(height * width);
  const tint = 0.8 + 0.15 * random();
  for (let y = 0; y < height; ++y) {
    for (let x = 0; x < width; ++x) gray[y * width + x] = tint + 0.05 * (x / width) - 0.03 * (y / height);
  }
  const lines = [];
  if (lineHeight >= height * 0.5) {
    lines.push({ top: Math.floor((height - lineHeight) / 2), left: 4, right: width - 4 });
  } else {
    for (let top = 20 + Math.floor(random() * 20); top + lineHeight < height - 10; top += lineHeight * 2 + Math.floor(random() * lineHeight)) {
      const left = Math.floor(random() * width * 0.3);
      lines.push({ top, left, right: left + Math.floor(width * (0.3 + 0.4 * random())) });
    }
  }
  for (const line of lines) {
    let x = line.left;
    while (x < line.right) {
      const glyphWidth = Math.floor(lineHeight * (0.5 + 0.4 * random()));
      const ink = 0.05 + 0.2 * random();
      const strokes = 2 + Math.floor(random() * 3);
      for (let s = 0; s < strokes; ++s) {
        const thickness = Math.max(1, Math.floor(lineHeight * 0.1));
        const horizontal = random() < 0.5;
        const offset = Math.floor(random() * (horizontal ? lineHeight : glyphWidth));
        for (let t = 0; t < thickness; ++t) {
          const span = horizontal ? glyphWidth : lineHeight;
          for (let i = 0; i < span; ++i) {
            const yy = line.top + (horizontal ? offset + t : i);
            const xx = x + (horizontal ? i : offset + t);
            if (yy >= 0 && yy < height && xx >= 0 && xx < width) gray[yy * width + xx] = ink;
          }
        }
      }
      x += glyphWidth + Math.floor(lineHeight * (0.1 + 0.2 * random())) + (random() < 0.15 ? lineHeight : 0);
    }
  }
  for (let i = 0; i < gray.length; ++i) gray[i] = Math.min(1, Math.max(0, gray[i] + 0.02 * (random() - 0.5)));
  return gray;
}

function makeInput(name, spec, seed) {
  const [batch, channels, height, width] = spec.shape;
  const count = spec.shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(count);
  const random = seededRandom(seed);
  if (spec.kind === 'uniform01') {
    for (let i = 0; i < count; ++i) data[i] = random();
  } else if (spec.kind === 'text_page' || spec.kind === 'text_line') {
    const mean = spec.normalize === 'imagenet' ? [0.485, 0.456, 0.406] : [0.5, 0.5, 0.5];
    const deviation = spec.normalize === 'imagenet' ? [0.229, 0.224, 0.225] : [0.5, 0.5, 0.5];
    for (let b = 0; b < batch; ++b) {
      const lineHeight = spec.kind === 'text_line' ? Math.floor(height * 0.65) : 24;
      const gray = drawTextImage(height, width, random, lineHeight);
      for (let c = 0; c < channels; ++c) {
        const colour = 1 - 0.04 * c;  // slightly warm paper: channels differ a little
        const base = (b * channels + c) * height * width;
        for (let i = 0; i < height * width; ++i) data[base + i] = (gray[i] * colour - mean[c]) / deviation[c];
      }
    }
  } else {
    throw new Error(`input '${name}': unknown kind '${spec.kind}'`);
  }
  return new ort.Tensor('float32', data, spec.shape);
}

function fileSafe(name) { return name.replace(/[^A-Za-z0-9_.-]/g, '_'); }

async function runModel(entry, options) {
  const modelPath = path.join(options.models, entry.model);
  if (!fs.existsSync(modelPath)) throw new Error(`${entry.name}: model file ${modelPath} is missing`);
  const directory = path.join(options.models, 'reference', entry.name);
  fs.mkdirSync(directory, { recursive: true });
  const session = await ort.InferenceSession.create(modelPath, {
    graphOptimizationLevel: 'disabled', intraOpNumThreads: options.threads, interOpNumThreads: 1,
  });
  const feeds = {};
  const inputs = {};
  for (const [name, spec] of Object.entries(entry.inputs)) {
    if (!session.inputNames.includes(name)) throw new Error(`${entry.name}: no input '${name}' (inputs: ${session.inputNames})`);
    // input_seed lets a raw and a decoded export of the same weights see the same image.
    feeds[name] = makeInput(name, spec, seedFromName((entry.input_seed || entry.name) + '/' + name));
    const file = path.join(directory, `input_${fileSafe(name)}.npy`);
    writeNpy(file, 'float32', spec.shape, feeds[name].data);
    inputs[name] = path.relative(options.models, file);
  }
  const started = process.hrtime.bigint();
  const results = await session.run(feeds);
  const milliseconds = Number(process.hrtime.bigint() - started) / 1e6;
  const outputs = {};
  const shapes = {};
  for (const name of session.outputNames) {
    const tensor = results[name];
    const file = path.join(directory, `output_${fileSafe(name)}.npy`);
    writeNpy(file, tensor.type, tensor.dims, tensor.data);
    const check = readNpy(file);  // the writer and the C++ reader must agree on what was written
    if (check.data.length !== tensor.data.length) throw new Error(`${file}: read back ${check.data.length} values`);
    outputs[name] = path.relative(options.models, file);
    shapes[name] = Array.from(tensor.dims);
  }
  await session.release();
  console.log(`  ${entry.name}: ${session.outputNames.length} output(s) ${JSON.stringify(shapes)}, ORT ${milliseconds.toFixed(1)} ms`);
  return { name: entry.name, model: entry.model, inputs, outputs, output_shapes: shapes, ort_milliseconds: milliseconds };
}

async function main() {
  const options = parseArguments();
  const list = JSON.parse(fs.readFileSync(options.list, 'utf8'));
  const manifest = {
    generator: 'tools/ort_reference.js', onnxruntime: ort.env.versions.common,
    graph_optimization: 'disabled', threads: options.threads, models: [],
  };
  for (const entry of list.models) manifest.models.push(await runModel(entry, options));
  const manifestPath = path.join(options.models, 'reference', 'manifest.json');
  fs.writeFileSync(manifestPath + '.partial', JSON.stringify(manifest, null, 2) + '\n');
  fs.renameSync(manifestPath + '.partial', manifestPath);
  console.log(`  wrote ${path.relative(repository, manifestPath)} (${manifest.models.length} models)`);
}

main().catch((error) => { console.error(`ort_reference.js: ${error.message}`); process.exit(1); });
