// HDF5 training-set files and PNG pictures: bitwise round trips, rank-count invariance of
// file contents, and one clear InputError for every kind of bad file.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

#include "bilearn/core/error.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/io/grey_image.hpp"
#include "bilearn/io/hdf5_dataset.hpp"
#include "bilearn/io/png.hpp"
#include "bilearn/problem/dataset.hpp"
#include "bilearn/problem/operators.hpp"
#include "bilearn/problem/phantom.hpp"
#include "bilearn/problem/truth_images.hpp"
#include "test_support.hpp"

using namespace bilearn;
using namespace bilearn_test;

namespace {

// Data in natural rows: row r averages image row q = r mod N and image column q (the
// crossing pixel replaced by its right neighbour, counted twice).
ForwardModel rows_model(const ImageGrid& grid, PetscInt rows) {
  ForwardModel m;
  m.name = "test rows";
  m.data_rows = rows;
  m.data_cols = 1;
  const PetscInt n = grid.n(), N = grid.pixels();
  BILEARN_CHECK(
      MatCreateAIJ(grid.comm(), PETSC_DECIDE, grid.local_size(), rows, N, 2 * n, nullptr, 2 * n, nullptr, m.A.out()));
  PetscInt r0 = 0, r1 = 0;
  BILEARN_CHECK(MatGetOwnershipRange(m.A, &r0, &r1));
  AO ao;
  BILEARN_CHECK(DMDAGetAO(grid.dm(), &ao));
  std::vector<PetscInt> cols(static_cast<size_t>(2 * n));
  std::vector<PetscScalar> vals(static_cast<size_t>(2 * n), 1.0 / (2.0 * n + 1.0));
  for (PetscInt r = r0; r < r1; ++r) {
    for (PetscInt k = 0; k < n; ++k) {
      cols[static_cast<size_t>(k)] = (r % n) * n + k;                                 // image row
      cols[static_cast<size_t>(n + k)] = k * n + (r % n + (k == r % n ? 1 : 0)) % n;  // image column
    }
    BILEARN_CHECK(AOApplicationToPetsc(ao, 2 * n, cols.data()));
    BILEARN_CHECK(MatSetValues(m.A, 1, &r, 2 * n, cols.data(), vals.data(), ADD_VALUES));
  }
  BILEARN_CHECK(MatAssemblyBegin(m.A, MAT_FINAL_ASSEMBLY));
  BILEARN_CHECK(MatAssemblyEnd(m.A, MAT_FINAL_ASSEMBLY));
  return m;
}

bool vec_equal(Vec a, Vec b) {
  PetscBool eq = PETSC_FALSE;
  BILEARN_CHECK(VecEqual(a, b, &eq));
  return eq == PETSC_TRUE;
}

std::string expect_input_error_text(const std::function<void()>& body) {
  try {
    body();
  } catch (const InputError& e) {
    return e.what();
  }
  ADD_FAILURE() << "expected an InputError";
  return "";
}

class IoTest : public ScratchDirTest {
 protected:
  IoTest() : ScratchDirTest("io") {}
};

DataOptions small_options(const std::string& phantom) {
  DataOptions o;
  o.samples = 3;
  o.noise = 0.03;
  o.seed = 17;
  o.phantom = phantom;
  return o;
}

}  // namespace

TEST_F(IoTest, Hdf5RoundTripIsBitwise) {
  const PetscInt n = 23;
  ImageGrid grid(PETSC_COMM_WORLD, n);
  for (int variant = 0; variant < 2; ++variant) {
    ForwardModel model = variant == 0 ? create_identity_model(grid) : rows_model(grid, 2 * n + 1);
    const TrainingSet set = generate_training_set(grid, model, small_options(variant ? "blocks" : "ellipses"));
    const std::string file = path("set" + std::to_string(variant) + ".h5");
    save_training_set(file, grid, model, set);
    const TrainingSet loaded = load_training_set(file, grid, model);
    EXPECT_EQ(loaded.size(), set.size());
    EXPECT_EQ(loaded.noise, 0.03);
    EXPECT_EQ(loaded.seed, 17);
    EXPECT_EQ(loaded.phantom, variant ? "blocks" : "ellipses");
    for (PetscInt s = 0; s < std::min(set.size(), loaded.size()); ++s) {
      EXPECT_TRUE(vec_equal(set.truth[s], loaded.truth[s])) << "variant " << variant << " truth " << s;
      EXPECT_TRUE(vec_equal(set.data[s], loaded.data[s])) << "variant " << variant << " data " << s;
    }
    const TrainingSet first = load_training_set(file, grid, model, 2);
    EXPECT_EQ(first.size(), 2);

    // Contents are those of a serial run: rank 0 loads the file alone and compares it with
    // a set it generates alone.
    if (world_rank() == 0) {
      ImageGrid self(PETSC_COMM_SELF, n);
      ForwardModel self_model = variant == 0 ? create_identity_model(self) : rows_model(self, 2 * n + 1);
      const TrainingSet serial =
          generate_training_set(self, self_model, small_options(variant ? "blocks" : "ellipses"));
      const TrainingSet serial_loaded = load_training_set(file, self, self_model);
      for (PetscInt s = 0; s < std::min(serial.size(), serial_loaded.size()); ++s) {
        EXPECT_TRUE(vec_equal(serial.truth[s], serial_loaded.truth[s])) << "variant " << variant << " truth " << s;
        EXPECT_TRUE(vec_equal(serial.data[s], serial_loaded.data[s])) << "variant " << variant << " data " << s;
      }
    }
    MPI_Barrier(PETSC_COMM_WORLD);
  }
}

TEST_F(IoTest, Hdf5HeaderAndLayout) {
  ImageGrid grid(PETSC_COMM_WORLD, 12);
  ForwardModel model = rows_model(grid, 30);
  model.data_rows = 5;
  model.data_cols = 6;
  const TrainingSet set = generate_training_set(grid, model, small_options("shepp"));
  save_training_set(path("h.h5"), grid, model, set);
  Hdf5DatasetFile file(PETSC_COMM_WORLD, path("h.h5"), Hdf5DatasetFile::Mode::read);
  const DatasetHeader h = file.read_header();
  EXPECT_EQ(h.n, 12);
  EXPECT_EQ(h.samples, 3);
  EXPECT_EQ(h.data_size, 30);
  EXPECT_EQ(h.data_rows, 5);
  EXPECT_EQ(h.data_cols, 6);
  EXPECT_EQ(h.noise, 0.03);
  EXPECT_EQ(h.seed, 17);
  EXPECT_EQ(h.phantom, "shepp");
  EXPECT_EQ(h.problem, "test rows");
  EXPECT_EQ(sample_dataset_name(7), "sample_007");
  EXPECT_EQ(sample_dataset_name(1234), "sample_1234");
}

TEST_F(IoTest, BadFilesAreClearInputErrors) {
  const PetscInt n = 16;
  ImageGrid grid(PETSC_COMM_WORLD, n);
  ForwardModel model = create_identity_model(grid);
  TrainingSet set = generate_training_set(grid, model, small_options("ellipses"));
  const std::string good = path("good.h5");
  save_training_set(good, grid, model, set);

  std::string msg = expect_input_error_text([&] { load_training_set(path("missing.h5"), grid, model); });
  EXPECT_TRUE(contains(msg, "missing.h5") && contains(msg, "does not exist")) << msg;

  if (world_rank() == 0) std::ofstream(path("text.h5")) << "not an HDF5 file\n";
  MPI_Barrier(PETSC_COMM_WORLD);
  msg = expect_input_error_text([&] { load_training_set(path("text.h5"), grid, model); });
  EXPECT_TRUE(contains(msg, "text.h5") && contains(msg, "not an HDF5 file")) << msg;

  ImageGrid other(PETSC_COMM_WORLD, n + 1);
  ForwardModel other_model = create_identity_model(other);
  msg = expect_input_error_text([&] { load_training_set(good, other, other_model); });
  EXPECT_TRUE(contains(msg, "good.h5") && contains(msg, "16x16") && contains(msg, "-problem_n 17")) << msg;

  ForwardModel wrong_rows = rows_model(grid, 40);
  msg = expect_input_error_text([&] { load_training_set(good, grid, wrong_rows); });
  EXPECT_TRUE(contains(msg, "good.h5") && contains(msg, "256") && contains(msg, "40")) << msg;

  msg = expect_input_error_text([&] { load_training_set(good, grid, model, 5); });
  EXPECT_TRUE(contains(msg, "-data_samples 5") && contains(msg, "good.h5")) << msg;

  // A NaN in the data of sample 1 (natural entry 0, whichever rank owns it).
  const PetscInt first = grid.petsc_indices(0, 1)[0];
  BILEARN_CHECK(VecSetValue(set.data[1], first, NAN, INSERT_VALUES));
  BILEARN_CHECK(VecAssemblyBegin(set.data[1]));
  BILEARN_CHECK(VecAssemblyEnd(set.data[1]));
  const std::string bad = path("nan.h5");
  save_training_set(bad, grid, model, set);
  msg = expect_input_error_text([&] { load_training_set(bad, grid, model); });
  EXPECT_TRUE(contains(msg, "nan.h5") && contains(msg, "/data/sample_001") && contains(msg, "NaN")) << msg;
  // The first sample alone is fine.
  EXPECT_EQ(load_training_set(bad, grid, model, 1).size(), 1);

  msg = expect_input_error_text([&] { save_training_set(path("no/such/dir/x.h5"), grid, model, set); });
  EXPECT_TRUE(contains(msg, "cannot write") && contains(msg, "x.h5")) << msg;

  // -data_file goes through make_training_set.
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-data_file", path("missing.h5").c_str()));
  msg = expect_input_error_text([&] { make_training_set(grid, model); });
  BILEARN_CHECK(PetscOptionsClearValue(nullptr, "-data_file"));
  EXPECT_TRUE(contains(msg, "missing.h5")) << msg;
}

TEST_F(IoTest, PngWriterProducesReadableGreyImage) {
  // 3 × 4 ramp with known grey levels: lo → 0, hi → 255, midpoint → 128.
  const std::vector<PetscScalar> ramp = {0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0};
  const std::string file = path("ramp.png");
  if (world_rank() == 0) {
    write_png(file, ramp, 3, 4, 0.0, 11.0);
    PetscInt rows = 0, cols = 0;
    const std::vector<unsigned char> grey = read_png_grey8(file, &rows, &cols);
    EXPECT_EQ(rows, 3);
    EXPECT_EQ(cols, 4);
    if (grey.size() == 12) {
      EXPECT_EQ(grey[0], 0);
      EXPECT_EQ(grey[11], 255);
      EXPECT_EQ(grey[5], 116);  // round(255·5/11) = round(115.9)
      EXPECT_EQ(grey[4], 93);   // round(92.7)
    }
    write_png(path("fixed.png"), ramp, 3, 4, 2.0, 4.0);  // clamped outside [2, 4]
    const std::vector<unsigned char> fixed = read_png_grey8(path("fixed.png"), &rows, &cols);
    if (fixed.size() == 12) {
      EXPECT_EQ(fixed[0], 0);
      EXPECT_EQ(fixed[3], 128);  // 3 is the midpoint
      EXPECT_EQ(fixed[11], 255);
    }
  }

  // Collective writer: a Shepp–Logan picture, bright skull at the top centre.
  const PetscInt n = 33;
  ImageGrid grid(PETSC_COMM_WORLD, n);
  OwnedVec x = grid.create_vec();
  fill_phantom(grid, make_phantom("shepp", 1, 0), x);
  write_image_png(PETSC_COMM_WORLD, path("shepp.png"), grid, x);
  if (world_rank() == 0) {
    PetscInt rows = 0, cols = 0;
    const std::vector<unsigned char> grey = read_png_grey8(path("shepp.png"), &rows, &cols);
    EXPECT_EQ(rows, n);
    EXPECT_EQ(cols, n);
    if (grey.size() == size_t(n * n)) {
      EXPECT_EQ(grey[0], 0);                     // outside the head
      EXPECT_EQ(grey[size_t(16 * n + 16)], 51);  // centre 0.2 → 51
      EXPECT_EQ(grey[size_t(2 * n + 16)], 255);  // skull (y = 0.875) → 1.0
    }
  }
  const std::string msg =
      expect_input_error_text([&] { write_image_png(PETSC_COMM_WORLD, path("none/x.png"), grid, x); });
  EXPECT_TRUE(contains(msg, "cannot write PNG file") && contains(msg, "x.png")) << msg;
}

TEST_F(IoTest, TruthImagesLoadAsStoredLevelsScaled) {
  // Two 8-bit images written by write_png with lo = 0, hi = 255, so that the grey level of a
  // pixel is the integer value itself; load_truth_images must give level/255 in natural order
  // on any number of ranks, and refuse what does not fit.
  const PetscInt n = 12;
  auto level = [](PetscInt s, PetscInt k) { return static_cast<double>((k * 37 + s * 101) % 256); };
  if (world_rank() == 0) {
    std::filesystem::create_directory(path("truths"));
    for (PetscInt s = 0; s < 2; ++s) {
      std::vector<PetscScalar> values(static_cast<size_t>(n * n));
      for (PetscInt k = 0; k < n * n; ++k) values[static_cast<size_t>(k)] = level(s, k);
      write_png(path("truths/" + std::to_string(s) + ".png"), values, n, n, 0.0, 255.0);
    }
    std::ofstream(path("truths/notes.txt")) << "ignored\n";
  }
  MPI_Barrier(PETSC_COMM_WORLD);
  ImageGrid grid(PETSC_COMM_WORLD, n);
  const std::vector<OwnedVec> truths = load_truth_images(grid, path("truths"));
  EXPECT_EQ(truths.size(), 2u);
  for (size_t s = 0; s < truths.size(); ++s) {
    const std::vector<PetscScalar> natural = grid.gather_natural(truths[s]);
    if (world_rank() == 0 && natural.size() == static_cast<size_t>(n * n)) {
      for (PetscInt k = 0; k < n * n; ++k)
        EXPECT_EQ(natural[static_cast<size_t>(k)], level(static_cast<PetscInt>(s), k) / 255.0) << "pixel " << k;
    }
  }
  EXPECT_EQ(load_truth_images(grid, path("truths"), 1).size(), 1u);

  ImageGrid other(PETSC_COMM_WORLD, n + 2);
  std::string msg = expect_input_error_text([&] { load_truth_images(other, path("truths")); });
  EXPECT_TRUE(contains(msg, "0.png") && contains(msg, "12x12") && contains(msg, "-problem_n 14")) << msg;
  msg = expect_input_error_text([&] { load_truth_images(grid, path("truths"), 3); });
  EXPECT_TRUE(contains(msg, "-data_samples 3") && contains(msg, "2 images")) << msg;
  msg = expect_input_error_text([&] { load_truth_images(grid, path("nothing-here")); });
  EXPECT_TRUE(contains(msg, "nothing-here") && contains(msg, "does not exist")) << msg;
  if (world_rank() == 0) {
    const std::vector<std::string> files = list_truth_images(path("truths"));
    EXPECT_EQ(files.size(), 2u);
    std::ofstream(path("truths/1.png"), std::ios::trunc) << "not a png\n";
    EXPECT_THROW(read_grey_image(path("truths/1.png")), InputError);
    EXPECT_EQ(image_file_kind(path("truths/0.png")), ImageFileKind::png);
  }
  MPI_Barrier(PETSC_COMM_WORLD);
  msg = expect_input_error_text([&] { load_truth_images(grid, path("truths")); });
  EXPECT_TRUE(contains(msg, "1.png") && contains(msg, "not a PNG or TIFF")) << msg;
}
