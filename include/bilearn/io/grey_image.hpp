// Greyscale images read from files: the ground truths of real data (-data_truth_dir).
//
// Formats, recognised by their first bytes (not by the file name):
//   PNG   (libpng)   colour type greyscale, 8 or 16 bits per pixel, interlaced or not
//   TIFF  (libtiff)  one sample per pixel, unsigned integer samples of 8 or 16 bits,
//                    photometric MinIsBlack (or absent), stripped or tiled, any compression
//                    libtiff decodes; only the first image (directory) of the file is read
// Refused with an InputError naming the file and what it holds: colour (RGB, palette),
// an alpha channel, other bit depths (1, 2, 4, 32), signed or floating-point samples,
// MinIsWhite TIFFs. Convert such images to 8- or 16-bit greyscale first.
//
// Values: a stored level g of bit depth b is the value g / (2^b − 1), so 8-bit images give
// g/255 and 16-bit images g/65535, both in [0, 1]. The stored levels are used as they are:
// no gamma (PNG gAMA, sRGB, iCCP) or colour-profile conversion. Row 0 is the top row of
// the picture, as in bilearn's natural order.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace bilearn {

struct GreyImage {
  std::int64_t rows = 0, cols = 0;
  int bits = 0;                       // 8 or 16
  std::vector<std::uint16_t> levels;  // rows·cols stored levels, row-major, top row first
  const char* format = "";            // "PNG" or "TIFF"
  // The value of pixel k (row-major): levels[k] / (2^bits − 1).
  double value(std::size_t k) const noexcept {
    return static_cast<double>(levels[k]) / static_cast<double>((1u << bits) - 1u);
  }
};

enum class ImageFileKind { png, tiff, other };

// What the first bytes of path say it is (other for a missing or unreadable file too).
ImageFileKind image_file_kind(const std::string& path);

// Reads a greyscale PNG or TIFF. A missing, unreadable, truncated or corrupt file, a file
// that is neither PNG nor TIFF, or one of the refused kinds above is an InputError naming
// path. Not collective.
GreyImage read_grey_image(const std::string& path);
GreyImage read_grey_png(const std::string& path);
GreyImage read_grey_tiff(const std::string& path);

}  // namespace bilearn
