// Greyscale TIFF reader on libtiff: the first image of the file, 8- or 16-bit unsigned
// samples, one per pixel, stripped or tiled. libtiff prints errors and warnings through
// global handlers; while a file is read they are replaced by one that keeps the first error
// message (for our one-line error) and by none for warnings, and restored afterwards.
#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>

#include "bilearn/core/error.hpp"
#include "bilearn/io/grey_image.hpp"

namespace bilearn {
namespace {

thread_local char first_error[256];

void keep_first_error(const char*, const char* format, va_list args) {
  if (first_error[0] != 0) return;
  std::vsnprintf(first_error, sizeof(first_error), format, args);
}

class HandlerScope {
 public:
  HandlerScope() : error_(TIFFSetErrorHandler(keep_first_error)), warning_(TIFFSetWarningHandler(nullptr)) {
    first_error[0] = 0;
  }
  ~HandlerScope() {
    TIFFSetErrorHandler(error_);
    TIFFSetWarningHandler(warning_);
  }
  HandlerScope(const HandlerScope&) = delete;
  HandlerScope& operator=(const HandlerScope&) = delete;

 private:
  TIFFErrorHandler error_, warning_;
};

struct TiffCloser {
  void operator()(TIFF* tif) const noexcept { TIFFClose(tif); }
};

std::string libtiff_says() {
  return first_error[0] ? std::string(": ") + first_error : std::string();
}

// Copies `count` samples of `bits` bits from a libtiff buffer (native byte order) to levels.
void copy_samples(const unsigned char* from, int bits, std::size_t count, std::uint16_t* to) {
  if (bits == 8) {
    for (std::size_t k = 0; k < count; ++k) to[k] = from[k];
  } else {
    std::memcpy(to, from, count * sizeof(std::uint16_t));
  }
}

void read_strips(TIFF* tif, const std::string& path, GreyImage& image) {
  std::vector<unsigned char> line(static_cast<std::size_t>(TIFFScanlineSize64(tif)));
  const std::size_t cols = static_cast<std::size_t>(image.cols);
  require(line.size() >= cols * (image.bits / 8), "cannot read TIFF file '" + path + "': bad scanline size");
  for (std::int64_t r = 0; r < image.rows; ++r) {
    // (The call comes first: the message must be built after libtiff has reported.)
    const bool read = TIFFReadScanline(tif, line.data(), static_cast<std::uint32_t>(r), 0) >= 0;
    require(read, "cannot read TIFF file '" + path + "' (truncated or corrupt)" + libtiff_says());
    copy_samples(line.data(), image.bits, cols, image.levels.data() + static_cast<std::size_t>(r) * cols);
  }
}

void read_tiles(TIFF* tif, const std::string& path, GreyImage& image) {
  std::uint32_t tile_w = 0, tile_h = 0;
  require(TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tile_w) == 1 && TIFFGetField(tif, TIFFTAG_TILELENGTH, &tile_h) == 1 &&
              tile_w > 0 && tile_h > 0,
          "cannot read TIFF file '" + path + "': tiled without a tile size");
  std::vector<unsigned char> tile(static_cast<std::size_t>(TIFFTileSize64(tif)));
  const std::size_t bytes = static_cast<std::size_t>(image.bits / 8);
  require(tile.size() >= std::size_t{tile_w} * tile_h * bytes, "cannot read TIFF file '" + path + "': bad tile size");
  for (std::int64_t y = 0; y < image.rows; y += tile_h)
    for (std::int64_t x = 0; x < image.cols; x += tile_w) {
      const bool read =
          TIFFReadTile(tif, tile.data(), static_cast<std::uint32_t>(x), static_cast<std::uint32_t>(y), 0, 0) >= 0;
      require(read, "cannot read TIFF file '" + path + "' (truncated or corrupt)" + libtiff_says());
      const std::int64_t h = std::min<std::int64_t>(tile_h, image.rows - y);
      const std::int64_t w = std::min<std::int64_t>(tile_w, image.cols - x);
      for (std::int64_t r = 0; r < h; ++r)
        copy_samples(tile.data() + static_cast<std::size_t>(r) * tile_w * bytes, image.bits,
                     static_cast<std::size_t>(w),
                     image.levels.data() + static_cast<std::size_t>((y + r) * image.cols + x));
    }
}

}  // namespace

GreyImage read_grey_tiff(const std::string& path) {
  HandlerScope handlers;
  std::unique_ptr<TIFF, TiffCloser> tif(TIFFOpen(path.c_str(), "r"));
  require(tif != nullptr, "cannot read TIFF file '" + path + "'" + libtiff_says());
  std::uint32_t width = 0, height = 0;
  require(TIFFGetField(tif.get(), TIFFTAG_IMAGEWIDTH, &width) == 1 &&
              TIFFGetField(tif.get(), TIFFTAG_IMAGELENGTH, &height) == 1 && width > 0 && height > 0,
          "cannot read TIFF file '" + path + "': no image size");
  std::uint16_t samples = 1, bits = 1, format = SAMPLEFORMAT_UINT, photometric = PHOTOMETRIC_MINISBLACK;
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLESPERPIXEL, &samples);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_BITSPERSAMPLE, &bits);
  TIFFGetFieldDefaulted(tif.get(), TIFFTAG_SAMPLEFORMAT, &format);
  if (TIFFGetField(tif.get(), TIFFTAG_PHOTOMETRIC, &photometric) != 1) photometric = PHOTOMETRIC_MINISBLACK;
  const std::string refused = "TIFF file '" + path + "' is ";
  const std::string only = ": bilearn reads 8- or 16-bit unsigned greyscale images only";
  require(samples == 1,
          refused + "colour or has an alpha channel (" + std::to_string(samples) + " samples per pixel)" + only);
  require(photometric != PHOTOMETRIC_PALETTE, refused + "colour-mapped (palette)" + only);
  require(photometric == PHOTOMETRIC_MINISBLACK,
          refused + "not MinIsBlack (photometric " + std::to_string(photometric) + ")" + only);
  require(format == SAMPLEFORMAT_UINT,
          refused + (format == SAMPLEFORMAT_INT ? "signed integer" : "floating-point") + only);
  require(bits == 8 || bits == 16, refused + std::to_string(bits) + "-bit" + only);

  GreyImage image;
  image.rows = height;
  image.cols = width;
  image.bits = bits;
  image.format = "TIFF";
  image.levels.resize(static_cast<std::size_t>(width) * height);
  if (TIFFIsTiled(tif.get()))
    read_tiles(tif.get(), path, image);
  else
    read_strips(tif.get(), path, image);
  return image;
}

}  // namespace bilearn
