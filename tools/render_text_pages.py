#!/usr/bin/env python3
"""Renders pages of printed text lines with their ground truth, for testing `npukit ocr`.

Each page is a white picture with several lines of English words, numbers and some punctuation in DejaVu Sans
(Debian's fonts-dejavu-core), black or dark grey, at a size and left margin that vary from line to line. The
words, sizes and positions come from a random generator seeded with the page number, so the same command gives
the same pages on every machine.

  tools/render_text_pages.py --output DIR [--pages 3] [--seed 12]

writes DIR/page_NN.png and DIR/ground_truth.json:
  {"font": ..., "pages": [{"file": "page_00.png", "width": W, "height": H,
                           "lines": [{"text": "...", "box": [x1, y1, x2, y2]}, ...]}]}
with the lines top to bottom and each line's ink box in pixels.
"""
import argparse
import json
import os
import random
import sys

from PIL import Image, ImageDraw, ImageFont

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"

WORDS = """time person year way day thing world life hand part child eye woman place work week case point number
group problem fact model board camera sensor signal memory speed power image layer network vector engine river
garden window station market letter answer budget window silver yellow orange purple winter summer morning
evening kitchen printer battery cable driver socket packet frame buffer kernel matrix tensor float integer
quick brown fox jumps over lazy dog simple clear honest exact green blue black white north south east west
""".split()
PUNCTUATION = [",", ".", ":", ";", "!", "?", "-", "(", ")", "%", "/", "#", "+"]


def make_line(generator):
    """A line of 3 to 6 tokens: words (some capitalised), numbers, prices, dates and punctuation."""
    tokens = []
    for _ in range(generator.randint(3, 6)):
        kind = generator.random()
        if kind < 0.62:
            word = generator.choice(WORDS)
            if generator.random() < 0.3:
                word = word.capitalize()
            tokens.append(word)
        elif kind < 0.80:
            tokens.append(str(generator.randint(0, 99999)))
        elif kind < 0.88:
            tokens.append("%d.%02d" % (generator.randint(1, 999), generator.randint(0, 99)))
        else:
            tokens.append("%04d-%02d-%02d" % (generator.randint(1990, 2030), generator.randint(1, 12), generator.randint(1, 28)))
    # punctuation attached to some tokens, as in prose
    for i in range(len(tokens)):
        if generator.random() < 0.25:
            mark = generator.choice(PUNCTUATION)
            if mark == "(":
                tokens[i] = "(" + tokens[i] + ")"
            else:
                tokens[i] = tokens[i] + mark
    return " ".join(tokens)


def render_page(index, seed, width=960, lines_per_page=(6, 9)):
    generator = random.Random(seed * 1000 + index)
    count = generator.randint(*lines_per_page)
    entries = []
    y = generator.randint(24, 48)
    for _ in range(count):
        size = generator.randint(22, 34)
        font = ImageFont.truetype(FONT, size)
        text = make_line(generator)
        while font.getlength(text) > width - 80 and " " in text:
            text = text.rsplit(" ", 1)[0]
        x = generator.randint(20, max(21, int(width - 40 - font.getlength(text))))
        entries.append((text, font, x, y, generator.choice([(0, 0, 0), (30, 30, 30), (50, 40, 90)])))
        y += int(size * generator.uniform(1.6, 2.3))
    height = y + generator.randint(20, 40)
    page = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(page)
    lines = []
    for text, font, x, y, colour in entries:
        draw.text((x, y), text, font=font, fill=colour)
        box = draw.textbbox((x, y), text, font=font)
        lines.append({"text": text, "box": list(box)})
    return page, lines


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--output", required=True, help="directory for page_NN.png and ground_truth.json")
    parser.add_argument("--pages", type=int, default=3)
    parser.add_argument("--seed", type=int, default=12)
    arguments = parser.parse_args()
    if not os.path.exists(FONT):
        sys.exit("render_text_pages: %s is missing (apt-get install fonts-dejavu-core)" % FONT)
    os.makedirs(arguments.output, exist_ok=True)
    pages = []
    for index in range(arguments.pages):
        page, lines = render_page(index, arguments.seed)
        name = "page_%02d.png" % index
        # written under a temporary name and renamed, so an interrupted run leaves no half picture
        page.save(os.path.join(arguments.output, name + ".partial"), format="PNG")
        os.replace(os.path.join(arguments.output, name + ".partial"), os.path.join(arguments.output, name))
        pages.append({"file": name, "width": page.width, "height": page.height, "lines": lines})
    truth = os.path.join(arguments.output, "ground_truth.json")
    with open(truth + ".partial", "w") as file:
        json.dump({"font": FONT, "seed": arguments.seed, "pages": pages}, file, indent=1)
    os.replace(truth + ".partial", truth)


if __name__ == "__main__":
    main()
