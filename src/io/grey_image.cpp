#include "bilearn/io/grey_image.hpp"

#include <cstring>
#include <fstream>

#include "bilearn/core/error.hpp"

namespace bilearn {

ImageFileKind image_file_kind(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  unsigned char head[8] = {0};
  in.read(reinterpret_cast<char*>(head), sizeof(head));
  const std::streamsize got = in.gcount();
  static const unsigned char png_signature[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (got >= 8 && std::memcmp(head, png_signature, 8) == 0) return ImageFileKind::png;
  // TIFF: byte order "II" (little-endian) or "MM" (big-endian), then 42 in that order.
  if (got >= 4 && ((head[0] == 'I' && head[1] == 'I' && head[2] == 42 && head[3] == 0) ||
                   (head[0] == 'M' && head[1] == 'M' && head[2] == 0 && head[3] == 42)))
    return ImageFileKind::tiff;
  return ImageFileKind::other;
}

GreyImage read_grey_image(const std::string& path) {
  {
    std::ifstream probe(path, std::ios::binary);
    require(static_cast<bool>(probe), "cannot read image file '" + path + "'");
  }
  switch (image_file_kind(path)) {
    case ImageFileKind::png:
      return read_grey_png(path);
    case ImageFileKind::tiff:
      return read_grey_tiff(path);
    case ImageFileKind::other:
      break;
  }
  throw InputError("image file '" + path + "' is not a PNG or TIFF file");
}

}  // namespace bilearn
