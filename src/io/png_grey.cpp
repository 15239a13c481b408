// Greyscale PNG reader on libpng's low-level API (the simplified png_image API converts 8-bit
// files to linear light when asked for 16 bits, and RGB to grey silently; we want the stored
// levels and a clear refusal). libpng reports errors by longjmp: the two functions that call
// setjmp hold no C++ object, and the error callback keeps libpng's message for our one line.
#include <png.h>

#include <csetjmp>
#include <cstdio>
#include <memory>

#include "bilearn/core/error.hpp"
#include "bilearn/io/grey_image.hpp"

namespace bilearn {
namespace {

struct ErrorText {
  char text[256] = {0};
};

void keep_error(png_structp png, png_const_charp message) {
  auto* error = static_cast<ErrorText*>(png_get_error_ptr(png));
  std::snprintf(error->text, sizeof(error->text), "%s", message ? message : "unknown libpng error");
  png_longjmp(png, 1);
}

void ignore_warning(png_structp, png_const_charp) {}

struct PngHeader {
  png_uint_32 width = 0, height = 0;
  int bit_depth = 0, color_type = 0, interlace = 0;
};

// 0 on success, 1 if libpng failed (message in the error pointer).
int read_header(png_structp png, png_infop info, std::FILE* file, PngHeader* h) {
  if (setjmp(png_jmpbuf(png))) return 1;
  png_init_io(png, file);
  png_read_info(png, info);
  png_get_IHDR(png, info, &h->width, &h->height, &h->bit_depth, &h->color_type, &h->interlace, nullptr, nullptr);
  return 0;
}

// Reads every row (all passes of an interlaced file) and the chunks up to IEND, so that a
// file cut short anywhere is an error. 0 on success, 1 if libpng failed.
int read_rows(png_structp png, png_infop info, png_bytepp rows) {
  if (setjmp(png_jmpbuf(png))) return 1;
  png_set_interlace_handling(png);
  png_read_update_info(png, info);
  png_read_image(png, rows);
  png_read_end(png, nullptr);
  return 0;
}

const char* colour_type_name(int color_type) {
  switch (color_type) {
    case PNG_COLOR_TYPE_GRAY_ALPHA:
      return "greyscale with an alpha channel";
    case PNG_COLOR_TYPE_PALETTE:
      return "colour-mapped (palette)";
    case PNG_COLOR_TYPE_RGB:
      return "colour (RGB)";
    case PNG_COLOR_TYPE_RGB_ALPHA:
      return "colour with alpha (RGBA)";
    default:
      return "of an unknown colour type";
  }
}

struct FileCloser {
  void operator()(std::FILE* f) const noexcept { std::fclose(f); }
};

class ReadStruct {
 public:
  explicit ReadStruct(ErrorText* error)
      : png_(png_create_read_struct(PNG_LIBPNG_VER_STRING, error, keep_error, ignore_warning)),
        info_(png_ ? png_create_info_struct(png_) : nullptr) {}
  ~ReadStruct() { png_destroy_read_struct(&png_, info_ ? &info_ : nullptr, nullptr); }
  ReadStruct(const ReadStruct&) = delete;
  ReadStruct& operator=(const ReadStruct&) = delete;
  png_structp png() const noexcept { return png_; }
  png_infop info() const noexcept { return info_; }

 private:
  png_structp png_;
  png_infop info_;
};

}  // namespace

GreyImage read_grey_png(const std::string& path) {
  std::unique_ptr<std::FILE, FileCloser> file(std::fopen(path.c_str(), "rb"));
  require(file != nullptr, "cannot read image file '" + path + "'");
  ErrorText error;
  ReadStruct reader(&error);
  require(reader.png() && reader.info(), "cannot read PNG file '" + path + "': libpng could not start");
  PngHeader h;
  // (The call comes first: the message must be built after libpng has filled it in.)
  const bool header_read = read_header(reader.png(), reader.info(), file.get(), &h) == 0;
  require(header_read, "cannot read PNG file '" + path + "': " + error.text);
  require(h.color_type == PNG_COLOR_TYPE_GRAY, "PNG file '" + path + "' is " + colour_type_name(h.color_type) +
                                                   ": bilearn reads 8- or 16-bit greyscale images only");
  require(h.bit_depth == 8 || h.bit_depth == 16, "PNG file '" + path + "' is " + std::to_string(h.bit_depth) +
                                                     "-bit greyscale: bilearn reads 8- or 16-bit greyscale only");
  const std::size_t bytes_per_pixel = h.bit_depth / 8;
  const std::size_t row_bytes = bytes_per_pixel * h.width;
  std::vector<png_byte> pixels(row_bytes * h.height);
  std::vector<png_bytep> rows(h.height);
  for (png_uint_32 r = 0; r < h.height; ++r) rows[r] = pixels.data() + r * row_bytes;
  const bool rows_read = read_rows(reader.png(), reader.info(), rows.data()) == 0;
  require(rows_read, "cannot read PNG file '" + path + "' (truncated or corrupt): " + error.text);

  GreyImage image;
  image.rows = h.height;
  image.cols = h.width;
  image.bits = h.bit_depth;
  image.format = "PNG";
  image.levels.resize(static_cast<std::size_t>(h.width) * h.height);
  for (std::size_t k = 0; k < image.levels.size(); ++k)
    image.levels[k] = bytes_per_pixel == 1 ? pixels[k]  // PNG stores 16-bit samples big-endian
                                           : static_cast<std::uint16_t>((pixels[2 * k] << 8) | pixels[2 * k + 1]);
  return image;
}

}  // namespace bilearn
