// Images as 8-bit greyscale PNG files (libpng). A value v becomes the grey level
// round(255·(v − lo)/(hi − lo)) clamped to [0, 255] (0 when hi ≤ lo or v is NaN); the
// collective helpers use lo = min, hi = max of the image. Row 0 of the natural order is
// the top row of the picture.
#pragma once
#include <petscvec.h>

#include <string>
#include <vector>

#include "bilearn/core/image_grid.hpp"

namespace bilearn {

// Writes rows×cols values (natural order, row-major) to path. Not collective: call it on
// one rank. Throws InputError if the file cannot be written.
void write_png(const std::string& path, const std::vector<PetscScalar>& natural, PetscInt rows, PetscInt cols,
               double lo, double hi);

// Collective: rank 0 holds the natural-order values (other ranks pass an empty vector) and
// writes them scaled to their [min, max]; an unwritable path is an InputError on every rank.
void write_natural_png(MPI_Comm comm, const std::string& path, const std::vector<PetscScalar>& natural_on_zero,
                       PetscInt rows, PetscInt cols);

// Collective: gathers a grid image in natural order and writes it scaled to [min, max].
void write_image_png(MPI_Comm comm, const std::string& path, const ImageGrid& grid, Vec image);

// Writes width×height RGB triples (row-major, top row first) as an 8-bit RGB PNG, compressed
// for speed (plots are redrawn at every outer step). Not collective. Throws InputError if
// the file cannot be written.
void write_png_rgb8(const std::string& path, const std::vector<unsigned char>& rgb, int width, int height);

// Reads an 8-bit greyscale PNG (for tests and tools): returns the grey levels row-major
// and sets rows/cols. Throws InputError if the file is missing or not such a PNG.
std::vector<unsigned char> read_png_grey8(const std::string& path, PetscInt* rows, PetscInt* cols);

// Reads any PNG as 8-bit RGB (for tests and tools): row-major RGB triples; sets width and
// height. Throws InputError if the file is missing or not a PNG.
std::vector<unsigned char> read_png_rgb8(const std::string& path, int* width, int* height);

}  // namespace bilearn
