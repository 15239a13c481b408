#include "bilearn/problem/dataset.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/io/hdf5_dataset.hpp"
#include "bilearn/problem/folded_operator.hpp"
#include "bilearn/problem/noise.hpp"
#include "bilearn/problem/phantom.hpp"
#include "bilearn/problem/truth_images.hpp"

namespace bilearn {
namespace {

const char* const truth_group = "/truth";
const char* const data_group = "/data";

PetscInt data_size(const ForwardModel& model) {
  PetscInt m = 0;
  BILEARN_CHECK(MatGetSize(model.A, &m, nullptr));
  return m;
}

OwnedVec create_data_vec(const ForwardModel& model) {
  OwnedVec y;
  BILEARN_CHECK(MatCreateVecs(model.A, nullptr, y.out()));
  return y;
}

OwnedVec natural_image(const ImageGrid& grid) {
  OwnedVec v;
  BILEARN_CHECK(DMDACreateNaturalVector(grid.dm(), v.out()));
  return v;
}

// A copy of a grid-ordered vector in natural order.
OwnedVec grid_to_natural(const ImageGrid& grid, Vec v) {
  OwnedVec natural = natural_image(grid);
  BILEARN_CHECK(DMDAGlobalToNaturalBegin(grid.dm(), v, INSERT_VALUES, natural));
  BILEARN_CHECK(DMDAGlobalToNaturalEnd(grid.dm(), v, INSERT_VALUES, natural));
  return natural;
}

void natural_to_grid(const ImageGrid& grid, Vec natural, Vec v) {
  BILEARN_CHECK(DMDANaturalToGlobalBegin(grid.dm(), natural, INSERT_VALUES, v));
  BILEARN_CHECK(DMDANaturalToGlobalEnd(grid.dm(), natural, INSERT_VALUES, v));
}

// Data vector in natural order (a copy either way, so the caller's Vec keeps its name).
OwnedVec data_to_natural(const ImageGrid& grid, const ForwardModel& model, Vec y) {
  if (model.data_on_grid) return grid_to_natural(grid, y);
  OwnedVec copy;
  BILEARN_CHECK(VecDuplicate(y, copy.out()));
  BILEARN_CHECK(VecCopy(y, copy));
  return copy;
}

// Writes the products a_ij·x_j of one row of block into products[offset, …) and returns the
// new end; products only grows, so no allocation once it holds the longest row.
PetscInt append_row(Mat block, PetscInt row, const PetscScalar* x, std::vector<PetscScalar>& products,
                    PetscInt offset) {
  PetscInt ncols = 0;
  const PetscInt* cols = nullptr;
  const PetscScalar* vals = nullptr;
  BILEARN_CHECK(MatGetRow(block, row, &ncols, &cols, &vals));
  if (static_cast<size_t>(offset + ncols) > products.size()) products.resize(2 * static_cast<size_t>(offset + ncols));
  PetscScalar* p = products.data() + offset;
  for (PetscInt k = 0; k < ncols; ++k) p[k] = vals[k] * x[cols[k]];
  const PetscInt end = offset + ncols;
  BILEARN_CHECK(MatRestoreRow(block, row, &ncols, &cols, &vals));  // sets ncols to 0
  return end;
}

std::string format_real(PetscReal value) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%g", static_cast<double>(value));
  return buffer;
}

}  // namespace

DataOptions read_data_options(MPI_Comm comm) {
  DataOptions o;
  OptionsBlock block(comm, "", "Training data (generated from phantoms, or loaded)");
  o.samples = block.integer("-data_samples", "number of training samples S", o.samples, 1);
  o.samples_given = block.was_set("-data_samples");
  o.phantom = block.choice("-data_phantom", "phantom family", phantom_kinds(), o.phantom);
  o.noise = block.real("-data_noise", "relative noise level sigma >= 0: ||e|| ~ sigma ||A x||", o.noise);
  require(o.noise >= 0, "-data_noise must be >= 0, got " + format_real(o.noise));
  o.seed = block.integer("-data_seed", "seed of phantoms and noise", o.seed, 0);
  o.file = block.string("-data_file", "load the training set from this HDF5 file instead of generating it", "");
  o.truth_dir = block.string("-data_truth_dir",
                             "simulate the data from the 8/16-bit greyscale PNG/TIFF images of this directory "
                             "(N x N, values g/255 or g/65535) instead of phantoms",
                             "");
  require(o.file.empty() || o.truth_dir.empty(), "give -data_file or -data_truth_dir, not both");
  return o;
}

TrainingSet make_training_set(const ImageGrid& grid, const ForwardModel& model) {
  return make_training_set(grid, model, read_data_options(grid.comm()));
}

TrainingSet make_training_set(const ImageGrid& grid, const ForwardModel& model, const DataOptions& options) {
  log::ScopedStage stage(log::stages().setup);
  if (!options.file.empty())
    return load_training_set(options.file, grid, model, options.samples_given ? options.samples : 0);
  return generate_training_set(grid, model, options);
}

TrainingSet generate_training_set(const ImageGrid& grid, const ForwardModel& model, const DataOptions& options) {
  require(options.samples >= 1, "-data_samples must be >= 1, got " + std::to_string(options.samples));
  require(options.noise >= 0, "-data_noise must be >= 0, got " + format_real(options.noise));
  TrainingSet set;
  set.noise = options.noise;
  set.seed = options.seed;
  set.phantom = options.phantom;
  std::vector<OwnedVec> truths;
  if (!options.truth_dir.empty()) {
    truths = load_truth_images(grid, options.truth_dir, options.samples_given ? options.samples : 0);
    set.phantom = "truth_dir:" + options.truth_dir;
  }
  const PetscInt samples = options.truth_dir.empty() ? options.samples : static_cast<PetscInt>(truths.size());
  const std::vector<PetscInt> natural = data_natural_indices(grid, model);
  for (PetscInt s = 0; s < samples; ++s) {
    OwnedVec x;
    if (options.truth_dir.empty()) {
      x = grid.create_vec();
      fill_phantom(grid, make_phantom(options.phantom, options.seed, s), x);
    } else {
      x = std::move(truths[static_cast<size_t>(s)]);
    }
    OwnedVec y = create_data_vec(model);
    apply_forward_reproducible(model, x, y);
    add_relative_noise(y, natural, options.noise, options.seed, s);
    set.truth.push_back(std::move(x));
    set.data.push_back(std::move(y));
  }
  return set;
}

TrainingSet load_training_set(const std::string& path, const ImageGrid& grid, const ForwardModel& model,
                              PetscInt samples) {
  Hdf5DatasetFile file(grid.comm(), path, Hdf5DatasetFile::Mode::read);
  const DatasetHeader h = file.read_header();
  require(h.n == grid.n(), "data set file '" + path + "' holds " + std::to_string(h.n) + "x" + std::to_string(h.n) +
                               " images, this run has -problem_n " + std::to_string(grid.n()));
  const PetscInt m = data_size(model);
  require(h.data_size == m, "data set file '" + path + "' holds data vectors of size " + std::to_string(h.data_size) +
                                ", the forward model '" + model.name + "' produces " + std::to_string(m));
  for (const auto& [name, value] : model.geometry) {
    PetscReal in_file = 0;
    if (!file.read_optional_real(name, &in_file)) continue;  // a file from before the geometry was stored
    require(std::abs(in_file - value) <= 1e-12 * std::max<PetscReal>(1, std::abs(value)),
            "data set file '" + path + "' was made with -" + name + " " + format_real(in_file) + ", this run has -" +
                name + " " + format_real(value));
  }
  if (samples <= 0) samples = h.samples;
  require(samples <= h.samples, "-data_samples " + std::to_string(samples) + " asks for more samples than the " +
                                    std::to_string(h.samples) + " in data set file '" + path + "'");
  TrainingSet set;
  set.noise = h.noise;
  set.seed = h.seed;
  set.phantom = h.phantom;
  OwnedVec natural = natural_image(grid);
  for (PetscInt s = 0; s < samples; ++s) {
    const std::string name = sample_dataset_name(s);
    OwnedVec x = grid.create_vec();
    file.read_vec(truth_group, name, natural);
    natural_to_grid(grid, natural, x);
    OwnedVec y = create_data_vec(model);
    if (model.data_on_grid) {
      file.read_vec(data_group, name, natural);
      natural_to_grid(grid, natural, y);
    } else {
      file.read_vec(data_group, name, y);
    }
    set.truth.push_back(std::move(x));
    set.data.push_back(std::move(y));
  }
  return set;
}

void save_training_set(const std::string& path, const ImageGrid& grid, const ForwardModel& model,
                       const TrainingSet& set) {
  require(set.truth.size() == set.data.size(), "save_training_set: truth and data counts differ");
  DatasetHeader h;
  h.n = grid.n();
  h.samples = set.size();
  h.data_size = data_size(model);
  h.data_rows = model.data_rows;
  h.data_cols = model.data_cols;
  if (h.data_rows * h.data_cols != h.data_size) {  // no picture shape given: one row
    h.data_rows = 1;
    h.data_cols = h.data_size;
  }
  h.noise = set.noise;
  h.seed = set.seed;
  h.phantom = set.phantom;
  h.problem = model.name;
  h.geometry = model.geometry;
  Hdf5DatasetFile file(grid.comm(), path, Hdf5DatasetFile::Mode::write);
  file.write_header(h);
  for (PetscInt s = 0; s < set.size(); ++s) {
    const std::string name = sample_dataset_name(s);
    OwnedVec x = grid_to_natural(grid, set.truth[static_cast<size_t>(s)]);
    file.write_vec(truth_group, name, x);
    OwnedVec y = data_to_natural(grid, model, set.data[static_cast<size_t>(s)]);
    file.write_vec(data_group, name, y);
  }
}

std::vector<PetscInt> data_natural_indices(const ImageGrid& grid, const ForwardModel& model) {
  PetscInt begin = 0, end = 0;
  BILEARN_CHECK(MatGetOwnershipRange(model.A, &begin, &end));
  if (model.data_on_grid) {
    if (end - begin != grid.local_size())
      throw std::logic_error("data_natural_indices: rows of A do not follow the grid layout");
    return grid.local_natural_indices();
  }
  std::vector<PetscInt> idx(static_cast<size_t>(end - begin));
  for (PetscInt i = begin; i < end; ++i) idx[static_cast<size_t>(i - begin)] = i;
  return idx;
}

namespace {
void apply_rows_reproducible(Mat A, Vec x, Vec y);
}

void apply_forward_reproducible(const ForwardModel& model, Vec x, Vec y) {
  if (is_folded(model.A)) {
    // Each stored part row by row on each transformed image (a permutation: exact).
    folded_apply(model.A, x, y, apply_rows_reproducible);
    return;
  }
  apply_rows_reproducible(model.A, x, y);
}

namespace {
// y = A x with each row summed exactly (reproducible_sum): the same bits on any rank count.
void apply_rows_reproducible(Mat A, Vec x, Vec y) {
  PetscBool seq = PETSC_FALSE, mpi = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)A, MATSEQAIJ, &seq));
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)A, MATMPIAIJ, &mpi));
  if (!seq && !mpi) {
    BILEARN_CHECK(MatMult(A, x, y));
    return;
  }
  Mat diag = A, off = nullptr;
  const PetscInt* colmap = nullptr;
  OwnedVec ghost;
  if (mpi) {
    // Off-process columns of x, in the compressed numbering of the off-diagonal block.
    BILEARN_CHECK(MatMPIAIJGetSeqAIJ(A, &diag, &off, &colmap));
    PetscInt nghost = 0;
    BILEARN_CHECK(MatGetSize(off, nullptr, &nghost));
    OwnedIS from;
    BILEARN_CHECK(ISCreateGeneral(PETSC_COMM_SELF, nghost, colmap, PETSC_COPY_VALUES, from.out()));
    BILEARN_CHECK(VecCreateSeq(PETSC_COMM_SELF, nghost, ghost.out()));
    OwnedScatter scatter;
    BILEARN_CHECK(VecScatterCreate(x, from, ghost, nullptr, scatter.out()));
    BILEARN_CHECK(VecScatterBegin(scatter, x, ghost, INSERT_VALUES, SCATTER_FORWARD));
    BILEARN_CHECK(VecScatterEnd(scatter, x, ghost, INSERT_VALUES, SCATTER_FORWARD));
  }
  PetscInt rows = 0;
  BILEARN_CHECK(MatGetLocalSize(A, &rows, nullptr));
  ConstVecArray xa(x);
  std::unique_ptr<ConstVecArray> ga(ghost ? new ConstVecArray(ghost) : nullptr);
  VecArray ya(y);
  std::vector<PetscScalar> products;
  for (PetscInt i = 0; i < rows; ++i) {
    PetscInt count = append_row(diag, i, xa.data(), products, 0);
    if (off) count = append_row(off, i, ga->data(), products, count);
    ya[i] = reproducible_sum(products.data(), count);
  }
}
}  // namespace

PetscReal measured_noise_level(const ForwardModel& model, Vec x, Vec y) {
  OwnedVec ax = create_data_vec(model);
  apply_forward_reproducible(model, x, ax);
  const PetscReal clean = reproducible_norm(ax);
  BILEARN_CHECK(VecAYPX(ax, -1.0, y));  // ax ← y − A x
  const PetscReal noise = reproducible_norm(ax);
  return clean > 0 ? noise / clean : noise;
}

}  // namespace bilearn
