// Drawing OCR results onto the picture for people to look at: each text box's outline (a rotated box is
// drawn as its four sides) and its line number on a filled tag at the top-left corner, so the picture can be
// read next to the table or JSON that lists the lines by number.
#pragma once

#include <cstddef>

#include <vector>

#include "vision/image.h"
#include "vision/text_box_geometry.h"

namespace npukit::vision {

// Draws in place; boxes[i] is labelled i + 1.
void draw_text_boxes(Image& image, const std::vector<Quad>& boxes);

}  // namespace npukit::vision
