#include "bilearn/problem/truth_images.hpp"

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "bilearn/core/error.hpp"
#include "bilearn/io/grey_image.hpp"

namespace bilearn {
namespace {

namespace fs = std::filesystem;

bool is_image_name(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;
  const std::size_t dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot);
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  return ext == ".png" || ext == ".tif" || ext == ".tiff";
}

std::string size_text(std::int64_t rows, std::int64_t cols) {
  return std::to_string(cols) + "x" + std::to_string(rows);
}

// Runs body on rank 0 only; an error there (its message) is thrown as an InputError on every
// rank. Collective.
template <class Body>
void on_rank_zero(MPI_Comm comm, Body&& body) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string error;
  if (rank == 0) {
    try {
      body();
    } catch (const std::exception& e) {
      error = e.what();
      if (error.empty()) error = "reading the truth images failed";
    }
  }
  long long length = static_cast<long long>(error.size());
  MPI_Bcast(&length, 1, MPI_LONG_LONG, 0, comm);
  if (length == 0) return;
  error.resize(static_cast<std::size_t>(length));
  MPI_Bcast(error.data(), static_cast<int>(length), MPI_CHAR, 0, comm);
  throw InputError(error);
}

}  // namespace

std::vector<std::string> list_truth_images(const std::string& dir) {
  std::error_code ec;
  require(fs::is_directory(dir, ec), "truth directory '" + dir + "' does not exist or is not a directory");
  std::vector<std::string> files;
  fs::directory_iterator it(dir, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    std::error_code type_ec;
    if (is_image_name(name) && !it->is_directory(type_ec)) files.push_back(it->path().string());
  }
  require(!ec, "cannot read truth directory '" + dir + "': " + ec.message());
  require(!files.empty(), "truth directory '" + dir + "' holds no image files (*.png, *.tif, *.tiff)");
  std::sort(files.begin(), files.end());
  return files;
}

std::vector<OwnedVec> load_truth_images(const ImageGrid& grid, const std::string& dir, PetscInt samples) {
  MPI_Comm comm = grid.comm();
  const PetscInt n = grid.n();
  std::vector<std::string> files;
  long long count = 0;
  on_rank_zero(comm, [&] {
    files = list_truth_images(dir);
    const long long available = static_cast<long long>(files.size());
    require(samples <= available, "-data_samples " + std::to_string(samples) + " asks for more samples than the " +
                                      std::to_string(available) + " images in truth directory '" + dir + "'");
    count = samples > 0 ? samples : available;
  });
  MPI_Bcast(&count, 1, MPI_LONG_LONG, 0, comm);

  OwnedVec natural, whole;  // natural-order image; all of it on rank 0 (empty elsewhere)
  OwnedScatter to_zero;
  BILEARN_CHECK(DMDACreateNaturalVector(grid.dm(), natural.out()));
  BILEARN_CHECK(VecScatterCreateToZero(natural, to_zero.out(), whole.out()));
  std::vector<OwnedVec> truths;
  std::string first_file;
  std::int64_t first_rows = 0, first_cols = 0;
  for (long long s = 0; s < count; ++s) {
    on_rank_zero(comm, [&] {
      const std::string& file = files[static_cast<std::size_t>(s)];
      const GreyImage image = read_grey_image(file);
      if (s == 0) {
        first_file = file;
        first_rows = image.rows;
        first_cols = image.cols;
      }
      require(image.rows == first_rows && image.cols == first_cols,
              "images in truth directory '" + dir + "' differ in size: '" + first_file + "' is " +
                  size_text(first_rows, first_cols) + ", '" + file + "' is " + size_text(image.rows, image.cols));
      require(image.rows == n && image.cols == n,
              "image '" + file + "' is " + size_text(image.rows, image.cols) + ", this run has -problem_n " +
                  std::to_string(n) + " (images are not resampled: they must be " + size_text(n, n) + ")");
      VecArray values(whole);
      for (std::size_t k = 0; k < image.levels.size(); ++k) values[static_cast<PetscInt>(k)] = image.value(k);
    });
    BILEARN_CHECK(VecScatterBegin(to_zero, whole, natural, INSERT_VALUES, SCATTER_REVERSE));
    BILEARN_CHECK(VecScatterEnd(to_zero, whole, natural, INSERT_VALUES, SCATTER_REVERSE));
    OwnedVec x = grid.create_vec();
    BILEARN_CHECK(DMDANaturalToGlobalBegin(grid.dm(), natural, INSERT_VALUES, x));
    BILEARN_CHECK(DMDANaturalToGlobalEnd(grid.dm(), natural, INSERT_VALUES, x));
    truths.push_back(std::move(x));
  }
  return truths;
}

}  // namespace bilearn
