#include "bilearn/io/png.hpp"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "bilearn/core/error.hpp"

namespace bilearn {
namespace {

unsigned char grey_level(double v, double lo, double hi) {
  if (!(hi > lo) || std::isnan(v)) return 0;
  const double t = 255.0 * (v - lo) / (hi - lo);
  return static_cast<unsigned char>(std::lround(std::clamp(t, 0.0, 255.0)));
}

}  // namespace

void write_png(const std::string& path, const std::vector<PetscScalar>& natural, PetscInt rows, PetscInt cols,
               double lo, double hi) {
  require(rows > 0 && cols > 0 && static_cast<PetscInt>(natural.size()) == rows * cols,
          "PNG file '" + path + "': image of " + std::to_string(natural.size()) + " values is not " +
              std::to_string(rows) + " x " + std::to_string(cols));
  std::vector<unsigned char> grey(natural.size());
  for (size_t k = 0; k < natural.size(); ++k) grey[k] = grey_level(natural[k], lo, hi);
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(cols);
  image.height = static_cast<png_uint_32>(rows);
  image.format = PNG_FORMAT_GRAY;
  const int ok = png_image_write_to_file(&image, path.c_str(), 0, grey.data(), static_cast<png_int_32>(cols), nullptr);
  const std::string detail = ok ? "" : image.message;
  png_image_free(&image);
  require(ok != 0, "cannot write PNG file '" + path + "'" + (detail.empty() ? "" : " (" + detail + ")"));
}

void write_natural_png(MPI_Comm comm, const std::string& path, const std::vector<PetscScalar>& natural_on_zero,
                       PetscInt rows, PetscInt cols) {
  int rank = 0, ok = 1;
  MPI_Comm_rank(comm, &rank);
  if (rank == 0) {
    double lo = PETSC_INFINITY, hi = PETSC_NINFINITY;
    for (PetscScalar v : natural_on_zero)
      if (!std::isnan(v)) {
        lo = std::min(lo, v);
        hi = std::max(hi, v);
      }
    try {
      write_png(path, natural_on_zero, rows, cols, lo, hi);
    } catch (const InputError&) {
      ok = 0;
    }
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  require(ok == 1, "cannot write PNG file '" + path + "'");
}

void write_image_png(MPI_Comm comm, const std::string& path, const ImageGrid& grid, Vec image) {
  write_natural_png(comm, path, grid.gather_natural(image), grid.n(), grid.n());
}

std::vector<unsigned char> read_png_grey8(const std::string& path, PetscInt* rows, PetscInt* cols) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) {
    png_image_free(&image);
    throw InputError("cannot read PNG file '" + path + "'");
  }
  image.format = PNG_FORMAT_GRAY;
  std::vector<unsigned char> grey(PNG_IMAGE_SIZE(image));
  const int ok = png_image_finish_read(&image, nullptr, grey.data(), 0, nullptr);
  png_image_free(&image);
  require(ok != 0, "cannot decode PNG file '" + path + "'");
  *rows = static_cast<PetscInt>(image.height);
  *cols = static_cast<PetscInt>(image.width);
  return grey;
}

}  // namespace bilearn
