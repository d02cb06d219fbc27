// Recognition output to text: PaddleOCR's CTCLabelDecode (ppocr/postprocess/rec_postprocess.py).
// The model gives T time steps × C class probabilities; class 0 is the CTC blank, classes 1 … K are the lines of
// the keys file, and class K + 1 is a space (use_space_char, on for the PP-OCR models). Greedy decoding takes the
// most probable class per step (the first on ties, as numpy's argmax), drops a step that repeats the step before
// it, then drops blanks; the line's score is the mean of the kept steps' probabilities (0 when none is kept).
#pragma once

#include <string>
#include <vector>

namespace npukit::vision {

class TextDictionary {
 public:
  // Reads a keys file: one character (UTF-8) per line, "\n" or "\r\n" line ends, as PaddleOCR reads it.
  // Throws Error(io) naming the file when it cannot be read, Error(invalid_argument) when it is empty or not
  // UTF-8 (naming the line).
  static TextDictionary read(const std::string& path, bool append_space = true);
  static TextDictionary from_characters(std::vector<std::string> characters, bool append_space = true);

  // Blank + characters (+ space): what the model's class axis must hold.
  int class_count() const { return static_cast<int>(characters_.size()) + 1; }
  int key_count() const { return key_count_; }
  // The text of class `index` (1 … class_count − 1).
  const std::string& character(int index) const { return characters_[static_cast<size_t>(index) - 1]; }

 private:
  std::vector<std::string> characters_;  // without the blank
  int key_count_ = 0;                    // lines of the keys file
};

struct RecognizedText {
  std::string text;
  float score = 0;
};

// `probabilities`: steps × class_count, row-major (one image of the rec output). Throws Error(invalid_argument)
// when class_count differs from the dictionary's.
RecognizedText ctc_greedy_decode(const float* probabilities, int steps, int class_count, const TextDictionary& dictionary);

}  // namespace npukit::vision
