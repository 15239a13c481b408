// `bilearn phantom --out DIR`: makes a training set (or loads one with -data_file) and
// writes DIR/dataset.h5, DIR/truth_<s>.png and DIR/data_<s>.png (the data as a picture,
// data_rows × data_cols in natural order: the sinogram for tomography). Prints one line
// per sample on rank 0 with ‖x†‖, ‖y‖, the measured noise level ‖y − Ax†‖/‖Ax†‖ and
// rank-count-invariant checksums of x† and y.
#include <cinttypes>
#include <cstdio>

#include "bilearn/app/commands.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/io/directory.hpp"
#include "bilearn/io/json_summary.hpp"
#include "bilearn/io/png.hpp"
#include "bilearn/problem/dataset.hpp"
#include "bilearn/problem/natural_order.hpp"
#include "bilearn/problem/noise.hpp"

namespace bilearn {
namespace {

std::string numbered(const std::string& dir, const char* stem, PetscInt s) {
  char buffer[32];
  std::snprintf(buffer, sizeof(buffer), "%s_%03lld.png", stem, static_cast<long long>(s));
  return dir + "/" + buffer;
}

std::string hex(std::uint64_t value) {
  char buffer[20];
  std::snprintf(buffer, sizeof(buffer), "%016" PRIx64, value);
  return buffer;
}

}  // namespace

int cmd_phantom(const CommandLine& cl) {
  const double start = MPI_Wtime();
  MPI_Comm comm = PETSC_COMM_WORLD;
  require(!cl.out.empty() || help_requested(), "phantom: --out DIR is required");
  const ProblemOptions problem = read_problem_options(comm);
  const ImageGrid grid(comm, problem.n);
  const ForwardModel model = create_forward_model(grid, problem);
  const DataOptions options = read_data_options(comm);
  if (help_requested()) return 0;  // the options are printed; nothing is made
  const TrainingSet set = make_training_set(grid, model, options);

  make_directory(comm, cl.out);
  save_training_set(cl.out + "/dataset.h5", grid, model, set);

  const std::vector<PetscInt> data_natural = data_natural_indices(grid, model);
  const std::vector<PetscInt> image_natural = grid.local_natural_indices();
  PetscInt data_rows = model.data_rows, data_cols = model.data_cols, m = 0;
  BILEARN_CHECK(MatGetSize(model.A, &m, nullptr));
  if (data_rows * data_cols != m) {
    data_rows = 1;
    data_cols = m;
  }
  nlohmann::json truth_norms = nlohmann::json::array(), data_norms = nlohmann::json::array(),
                 noise_levels = nlohmann::json::array(), truth_sums = nlohmann::json::array(),
                 data_sums = nlohmann::json::array();
  BILEARN_CHECK(PetscPrintf(
      comm,
      "phantom: %s, N = %" PetscInt_FMT ", %" PetscInt_FMT " samples (%s), noise %g, seed %" PetscInt_FMT " -> %s\n",
      model.name.c_str(), grid.n(), set.size(), set.phantom.c_str(), (double)set.noise, set.seed, cl.out.c_str()));
  for (PetscInt s = 0; s < set.size(); ++s) {
    Vec x = set.truth[static_cast<size_t>(s)], y = set.data[static_cast<size_t>(s)];
    write_image_png(comm, numbered(cl.out, "truth", s), grid, x);
    write_natural_png(comm, numbered(cl.out, "data", s), gather_data_natural(model, grid, y), data_rows, data_cols);
    const PetscReal xn = reproducible_norm(x), yn = reproducible_norm(y);
    const PetscReal level = measured_noise_level(model, x, y);
    const std::string xs = hex(natural_checksum(x, image_natural)), ys = hex(natural_checksum(y, data_natural));
    BILEARN_CHECK(PetscPrintf(comm,
                              "sample %3" PetscInt_FMT "  |x| = %.10e  |y| = %.10e  noise = %.6e  truth %s  data %s\n",
                              s, (double)xn, (double)yn, (double)level, xs.c_str(), ys.c_str()));
    truth_norms.push_back(xn);
    data_norms.push_back(yn);
    noise_levels.push_back(level);
    truth_sums.push_back(xs);
    data_sums.push_back(ys);
  }

  if (!cl.json.empty()) {
    nlohmann::json j = base_summary(comm, "phantom", start);
    j["problem"] = model.name;
    j["N"] = grid.n();
    j["samples"] = set.size();
    j["phantom"] = set.phantom;
    j["noise"] = set.noise;
    j["seed"] = set.seed;
    j["data_rows"] = data_rows;
    j["data_cols"] = data_cols;
    j["truth_norms"] = truth_norms;
    j["data_norms"] = data_norms;
    j["noise_levels"] = noise_levels;
    j["truth_checksums"] = truth_sums;
    j["data_checksums"] = data_sums;
    j["dataset"] = cl.out + "/dataset.h5";
    write_json(comm, cl.json, j);
  }
  return 0;
}

}  // namespace bilearn
