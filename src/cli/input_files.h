// --input NAME=FILE.npy of `run` and `bench` (trtexec's --loadInputs): parsed, read and checked against the
// model's declared inputs, with messages that say what to do.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "npukit/session.h"
#include "npukit/tensor.h"

namespace npukit::cli {

struct InputFile {
  std::string name;  // the model input
  std::string path;  // the .npy file it was read from
  Tensor tensor;
};

// Reads every --input argument: "NAME=FILE.npy", or a bare "FILE.npy" for a model with one input. A picture
// (.jpg, .jpeg, .png, .bmp) for an image input is decoded and letterboxed at the input's size, /255, RGB (the
// default of vision/preprocessing_spec.h). Throws
// Error naming `model` when a name is unknown or given twice, a path is missing or a folder, a file is not
// .npy, or its dtype or shape disagrees with the declaration.
std::vector<InputFile> read_input_files(const std::vector<std::string>& arguments, const std::vector<ValueInfo>& declared,
                                        const std::string& model);

// The shapes of the .npy files named by --input arguments, by input name ("" for a bare FILE), read from the
// headers alone: they fix a model's dynamic dims before it is prepared. Files that cannot be read are left out
// (read_input_files reports them with their input).
std::map<std::string, std::vector<int64_t>> shapes_of_input_files(const std::vector<std::string>& arguments);

// "images, state" (or "none"), for messages.
std::string input_names(const std::vector<ValueInfo>& inputs);

}  // namespace npukit::cli
