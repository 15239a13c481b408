#include "bilearn/io/png.hpp"

#include <png.h>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"

namespace bilearn {
namespace {

unsigned char grey_level(double v, double lo, double hi) {
  if (!(hi > lo) || std::isnan(v)) return 0;
  const double t = 255.0 * (v - lo) / (hi - lo);
  return static_cast<unsigned char>(std::lround(std::clamp(t, 0.0, 255.0)));
}

// The one libpng writer: 8-bit pixels of `format` (PNG_FORMAT_GRAY or PNG_FORMAT_RGB), row-major;
// flags: 0 or PNG_IMAGE_FLAG_FAST (faster, larger files).
void write_pixels(const std::string& path, const unsigned char* pixels, int width, int height, png_uint_32 format,
                  png_uint_32 flags) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  image.width = static_cast<png_uint_32>(width);
  image.height = static_cast<png_uint_32>(height);
  image.format = format;
  image.flags = flags;
  const int ok = png_image_write_to_file(&image, path.c_str(), 0, pixels, 0, nullptr);
  const std::string detail = ok ? "" : image.message;
  png_image_free(&image);
  require(ok != 0, "cannot write PNG file '" + path + "'" + (detail.empty() ? "" : " (" + detail + ")"));
}

// The one libpng reader: any PNG converted to 8-bit `format`, row-major.
std::vector<unsigned char> read_pixels(const std::string& path, png_uint_32 format, int* width, int* height) {
  png_image image;
  std::memset(&image, 0, sizeof(image));
  image.version = PNG_IMAGE_VERSION;
  if (!png_image_begin_read_from_file(&image, path.c_str())) {
    png_image_free(&image);
    throw InputError("cannot read PNG file '" + path + "'");
  }
  image.format = format;
  std::vector<unsigned char> pixels(PNG_IMAGE_SIZE(image));
  const int ok = png_image_finish_read(&image, nullptr, pixels.data(), 0, nullptr);
  png_image_free(&image);
  require(ok != 0, "cannot decode PNG file '" + path + "'");
  *width = static_cast<int>(image.width);
  *height = static_cast<int>(image.height);
  return pixels;
}

}  // namespace

void write_png(const std::string& path, const std::vector<PetscScalar>& natural, PetscInt rows, PetscInt cols,
               double lo, double hi) {
  require(rows > 0 && cols > 0 && static_cast<PetscInt>(natural.size()) == rows * cols,
          "PNG file '" + path + "': image of " + std::to_string(natural.size()) + " values is not " +
              std::to_string(rows) + " x " + std::to_string(cols));
  std::vector<unsigned char> grey(natural.size());
  for (size_t k = 0; k < natural.size(); ++k) grey[k] = grey_level(natural[k], lo, hi);
  write_pixels(path, grey.data(), static_cast<int>(cols), static_cast<int>(rows), PNG_FORMAT_GRAY, 0);
}

void write_natural_png(MPI_Comm comm, const std::string& path, const std::vector<PetscScalar>& natural_on_zero,
                       PetscInt rows, PetscInt cols) {
  log::ScopedStage stage(log::stages().io);
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
  log::ScopedStage stage(log::stages().io);
  write_natural_png(comm, path, grid.gather_natural(image), grid.n(), grid.n());
}

void write_png_rgb8(const std::string& path, const std::vector<unsigned char>& rgb, int width, int height) {
  require(width > 0 && height > 0 && rgb.size() == 3 * static_cast<size_t>(width) * static_cast<size_t>(height),
          "PNG file '" + path + "': " + std::to_string(rgb.size()) + " bytes are not " + std::to_string(width) + " x " +
              std::to_string(height) + " RGB pixels");
  write_pixels(path, rgb.data(), width, height, PNG_FORMAT_RGB, PNG_IMAGE_FLAG_FAST);
}

std::vector<unsigned char> read_png_grey8(const std::string& path, PetscInt* rows, PetscInt* cols) {
  int width = 0, height = 0;
  std::vector<unsigned char> grey = read_pixels(path, PNG_FORMAT_GRAY, &width, &height);
  *rows = height;
  *cols = width;
  return grey;
}

std::vector<unsigned char> read_png_rgb8(const std::string& path, int* width, int* height) {
  return read_pixels(path, PNG_FORMAT_RGB, width, height);
}

}  // namespace bilearn
