// Drawing detections onto a picture for people to look at: box outlines and a filled label ("person 0.87") in
// a colour per class, text from stb_easy_font's built-in bitmap strokes (no font file needed).
#pragma once

#include <string>
#include <vector>

#include "vision/detection.h"
#include "vision/image.h"

namespace npukit::vision {

// Draws in place; `labels[i]` is the text for detections[i].
void draw_detections(Image& image, const std::vector<Detection>& detections, const std::vector<std::string>& labels);

}  // namespace npukit::vision
