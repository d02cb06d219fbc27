#include "vision/text_ctc_decoding.h"

#include <fstream>
#include <sstream>

#include "npukit/error.h"

namespace npukit::vision {

namespace {

bool is_utf8(const std::string& text) {
  for (size_t i = 0; i < text.size();) {
    const unsigned char lead = static_cast<unsigned char>(text[i]);
    const size_t length = lead < 0x80 ? 1 : (lead >> 5) == 0x6 ? 2 : (lead >> 4) == 0xE ? 3 : (lead >> 3) == 0x1E ? 4 : 0;
    if (length == 0 || i + length > text.size()) return false;
    for (size_t k = 1; k < length; ++k) {
      if ((static_cast<unsigned char>(text[i + k]) >> 6) != 0x2) return false;
    }
    i += length;
  }
  return true;
}

}  // namespace

TextDictionary TextDictionary::from_characters(std::vector<std::string> characters, bool append_space) {
  TextDictionary dictionary;
  dictionary.key_count_ = static_cast<int>(characters.size());
  dictionary.characters_ = std::move(characters);
  if (append_space) dictionary.characters_.push_back(" ");
  return dictionary;
}

TextDictionary TextDictionary::read(const std::string& path, bool append_space) {
  std::ifstream file(path, std::ios::binary);
  if (!file) throw Error(ErrorKind::io, "cannot read the keys file (one character per line, e.g. ppocr_keys_v1.txt)", path);
  std::stringstream content;
  content << file.rdbuf();
  const std::string text = content.str();
  std::vector<std::string> characters;
  size_t begin = 0;
  int line_number = 0;
  while (begin < text.size()) {
    size_t end = text.find('\n', begin);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(begin, end - begin);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    ++line_number;
    if (!is_utf8(line)) {
      throw Error(ErrorKind::invalid_argument, "line " + std::to_string(line_number) + " of the keys file is not UTF-8", path);
    }
    characters.push_back(std::move(line));
    begin = end + 1;
  }
  if (characters.empty()) throw Error(ErrorKind::invalid_argument, "the keys file is empty", path);
  return from_characters(std::move(characters), append_space);
}

RecognizedText ctc_greedy_decode(const float* probabilities, int steps, int class_count, const TextDictionary& dictionary) {
  if (class_count != dictionary.class_count()) {
    throw Error(ErrorKind::invalid_argument, "the recognizer has " + std::to_string(class_count) +
                    " classes but the dictionary " + std::to_string(dictionary.class_count()));
  }
  RecognizedText result;
  double sum = 0;
  int kept = 0;
  int previous = -1;
  for (int t = 0; t < steps; ++t) {
    const float* row = probabilities + static_cast<size_t>(t) * class_count;
    int best = 0;
    for (int c = 1; c < class_count; ++c) {
      if (row[c] > row[best]) best = c;
    }
    const bool repeated = best == previous;
    previous = best;
    if (repeated || best == 0) continue;
    result.text += dictionary.character(best);
    sum += row[best];
    ++kept;
  }
  result.score = kept > 0 ? static_cast<float>(sum / kept) : 0.0f;
  return result;
}

}  // namespace npukit::vision
