// Minimal NumPy .npy reader and writer for Node (format version 1.0 written, 1.0-3.0 read; little-endian,
// C order). Used by ort_reference.js to hand inputs and outputs to the C++ tests.
'use strict';
const fs = require('fs');

const DESCRIPTORS = {
  float32: ['<f4', Float32Array], float64: ['<f8', Float64Array], float16: ['<f2', Uint16Array],
  int8: ['|i1', Int8Array], uint8: ['|u1', Uint8Array], int16: ['<i2', Int16Array], uint16: ['<u2', Uint16Array],
  int32: ['<i4', Int32Array], uint32: ['<u4', Uint32Array], int64: ['<i8', BigInt64Array],
  uint64: ['<u8', BigUint64Array], bool: ['|b1', Uint8Array],
};

function headerFor(type, shape) {
  const entry = DESCRIPTORS[type];
  if (!entry) throw new Error(`npy: element type ${type} has no .npy descriptor`);
  const shapeText = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  let header = `{'descr': '${entry[0]}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  const unpadded = 10 + header.length + 1;  // numpy aligns the data to 64 bytes
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const preamble = Buffer.alloc(10);
  Buffer.from('\x93NUMPY', 'latin1').copy(preamble, 0);
  preamble[6] = 1;
  preamble[7] = 0;
  preamble.writeUInt16LE(header.length, 8);
  return Buffer.concat([preamble, Buffer.from(header, 'latin1')]);
}

// type: an onnxruntime tensor type name ('float32', 'int64', 'bool', ...); data: its typed array.
function writeNpy(path, type, shape, data) {
  const expected = shape.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new Error(`npy: ${path}: ${data.length} values for shape [${shape}]`);
  const bytes = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(path, Buffer.concat([headerFor(type, shape), bytes]));
}

function readNpy(path) {
  const file = fs.readFileSync(path);
  if (file.length < 10 || file.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`npy: ${path}: bad magic`);
  const major = file[6];
  const lengthBytes = major === 1 ? 2 : 4;
  const headerLength = lengthBytes === 2 ? file.readUInt16LE(8) : file.readUInt32LE(8);
  const dataOffset = 8 + lengthBytes + headerLength;
  const header = file.toString('latin1', 8 + lengthBytes, dataOffset);
  const descriptor = /'descr':\s*'([^']+)'/.exec(header)[1];
  if (/'fortran_order':\s*True/.test(header)) throw new Error(`npy: ${path}: Fortran order`);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)[1];
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length).map(Number);
  const type = Object.keys(DESCRIPTORS).find((t) => DESCRIPTORS[t][0] === descriptor);
  if (!type) throw new Error(`npy: ${path}: unsupported descriptor ${descriptor}`);
  const ArrayType = DESCRIPTORS[type][1];
  const count = shape.reduce((a, b) => a * b, 1);
  if (file.length - dataOffset !== count * ArrayType.BYTES_PER_ELEMENT) throw new Error(`npy: ${path}: size mismatch`);
  const copy = new Uint8Array(file.subarray(dataOffset));  // aligned copy for the typed array view
  return { type, shape, data: new ArrayType(copy.buffer, 0, count) };
}

module.exports = { writeNpy, readNpy };
