// Ground truths from image files: the x†_s of real data (-data_truth_dir DIR).
//
// The images of DIR are its files named *.png, *.tif or *.tiff (any case; hidden files,
// other files and subdirectories are left alone), taken in byte order of their names
// (name them 000.png, 001.png, … to fix the order); sample s is the s-th. Each is read by
// read_grey_image (bilearn/io/grey_image.hpp: 8- or 16-bit greyscale PNG or TIFF, values
// g/255 or g/65535 in [0, 1], row 0 at the top) and must be N×N with N = -problem_n; no
// resampling is done. A missing or empty directory, a file that is not such an image
// (truncated, corrupt, colour, …), images of different sizes or a size other than N×N is
// an InputError naming the directory or file.
#pragma once
#include <string>
#include <vector>

#include "bilearn/core/handles.hpp"
#include "bilearn/core/image_grid.hpp"

namespace bilearn {

// The image files of dir (full paths, in name order). InputError if dir is missing, not a
// directory, or holds no image file. Not collective.
std::vector<std::string> list_truth_images(const std::string& dir);

// The first `samples` images of dir (0: all of them) as global vectors of grid. Rank 0 reads
// and checks each file and scatters its pixels; every rank throws the same InputError.
// Collective. The values do not depend on the number of ranks.
std::vector<OwnedVec> load_truth_images(const ImageGrid& grid, const std::string& dir, PetscInt samples = 0);

}  // namespace bilearn
