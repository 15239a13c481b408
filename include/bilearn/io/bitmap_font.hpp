// The plot font: one 5×7 bitmap per character (digits, A–Z, a–z, space and . , - + | ( ) :
// / = _ % ' [ ] < > * ^ #), drawn by Canvas::text. A glyph's rows are strings of 5 characters,
// '#' for ink. A text line is 9 rows high: 7 above the baseline, 2 below. Glyphs of letters
// that descend below the baseline (g p q y) are drawn two rows lower; a tall glyph ('|')
// continues its last row through the two rows below the baseline.
#pragma once

namespace bilearn::font {

constexpr int glyph_width = 5;
constexpr int glyph_height = 7;
constexpr int descent = 2;  // rows below the baseline used by descending glyphs
constexpr int advance = 6;  // glyph width plus one column of spacing

enum Kind { plain, descender, tall };

struct Glyph {
  char ch;
  Kind kind;
  const char* rows[glyph_height];
};

// The glyph of c, or nullptr if the font has none.
const Glyph* find_glyph(char c);

}  // namespace bilearn::font
