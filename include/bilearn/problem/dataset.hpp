// Training sets: S pairs (x†_s, y_s = A x†_s + e_s), generated from phantoms and noise or
// loaded from an HDF5 file (layout in bilearn/io/hdf5_dataset.hpp).
//
// Options (read by make_training_set, printed by -help):
//   -data_samples S       number of samples (default 4); with -data_file: load the first S
//   -data_phantom K       shepp | ellipses | blocks (default ellipses), see phantom.hpp
//   -data_noise σ         relative noise level, ‖e_s‖ ≈ σ‖A x†_s‖ (default 0.01, ≥ 0)
//   -data_seed s          seed of phantoms and noise (default 1); sample k uses (s, k)
//   -data_file F          load the set from F instead of generating it
//   -data_truth_dir D     simulate the data from the ground-truth images of D (PNG/TIFF,
//                         truth_images.hpp) instead of phantoms: y_s = A x†_s + e_s as for
//                         phantoms; S = all images of D, or the first S with -data_samples
//
// A generated set is the same bits on any number of ranks: phantoms are evaluated per
// pixel, y = A x† is formed with exactly summed rows (apply_forward_reproducible), the
// noise of entry i is a counter-based Gaussian keyed by (seed, sample, natural index of i)
// scaled by σ‖A x†‖/√m with a reproducible norm (noise.hpp).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "bilearn/core/handles.hpp"
#include "bilearn/core/image_grid.hpp"
#include "bilearn/problem/forward_model.hpp"

namespace bilearn {

struct DataOptions {
  PetscInt samples = 4;
  std::string phantom = "ellipses";
  PetscReal noise = 0.01;
  PetscInt seed = 1;
  std::string file;            // non-empty: load instead of generating
  std::string truth_dir;       // non-empty: ground truths from the images of this directory
  bool samples_given = false;  // -data_samples was set explicitly
};
DataOptions read_data_options(MPI_Comm comm);

struct TrainingSet {
  std::vector<OwnedVec> truth;  // x†_s: global vectors of the grid (grid.create_vec() layout)
  std::vector<OwnedVec> data;   // y_s: left vectors of A (MatCreateVecs(A, nullptr, &y) layout)
  PetscReal noise = 0.0;        // relative noise level σ the data was made with
  PetscInt seed = 1;
  std::string phantom;  // phantom family ("shepp", "ellipses", "blocks") or "truth_dir:<D>"
  PetscInt size() const noexcept { return static_cast<PetscInt>(truth.size()); }
};

// Reads the -data_* options; -data_file F loads F (load_training_set), otherwise generates.
TrainingSet make_training_set(const ImageGrid& grid, const ForwardModel& model);
TrainingSet make_training_set(const ImageGrid& grid, const ForwardModel& model, const DataOptions& options);
TrainingSet generate_training_set(const ImageGrid& grid, const ForwardModel& model, const DataOptions& options);
// Loads the first `samples` samples (0: all). A missing or unreadable file, sizes that do
// not match the grid or A, too few samples, or NaN/Inf values are InputErrors naming the
// file (and dataset). Collective.
TrainingSet load_training_set(const std::string& path, const ImageGrid& grid, const ForwardModel& model,
                              PetscInt samples = 0);
// Writes the set to path (HDF5, natural order): identical content for any rank count.
void save_training_set(const std::string& path, const ImageGrid& grid, const ForwardModel& model,
                       const TrainingSet& set);

// Natural index of every locally owned entry of a data vector of model: the pixel's
// natural index when model.data_on_grid, else the global row index. Not collective.
std::vector<PetscInt> data_natural_indices(const ImageGrid& grid, const ForwardModel& model);
// y = A x with every row sum computed exactly (reproducible_sum over the row's products),
// so that y is the same bits for any rank count. AIJ matrices (seq or MPI); other types
// fall back to MatMult (rank-count invariant only up to round-off). Collective.
void apply_forward_reproducible(const ForwardModel& model, Vec x, Vec y);
// ‖y − A x‖ / ‖A x‖ (reproducible), the noise level actually present in a pair. Collective.
PetscReal measured_noise_level(const ForwardModel& model, Vec x, Vec y);
// (A data vector in natural order on rank 0: gather_data_natural in natural_order.hpp.)

}  // namespace bilearn
