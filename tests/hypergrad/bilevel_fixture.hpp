// What the hypergradient tests share: scoped PETSc options, deterministic test images and a
// complete small bilevel problem built from the options in force.
#pragma once
#include <cmath>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/driver/bilevel_problem.hpp"
#include "bilearn/problem/operators.hpp"
#include "bilearn/reg/regulariser.hpp"
#include "test_support.hpp"

namespace bilearn::testing {

using Options = std::vector<std::pair<std::string, std::string>>;

using bilearn_test::ScopedOptions;

inline Options operator+(Options a, const Options& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

// Smooth test image s (natural order): two Gaussian blobs on a faint checkerboard.
inline std::vector<PetscScalar> test_image(PetscInt n, int s) {
  std::vector<PetscScalar> img(static_cast<size_t>(n * n));
  for (PetscInt r = 0; r < n; ++r)
    for (PetscInt c = 0; c < n; ++c) {
      const double x = (c + 0.5) / n - 0.5, y = (r + 0.5) / n - 0.5;
      const double a = std::exp(-((x - 0.15 * (s + 1)) * (x - 0.15 * (s + 1)) + y * y) / 0.02);
      const double b = 0.6 * std::exp(-(x * x + (y + 0.2) * (y + 0.2)) / 0.01);
      img[static_cast<size_t>(r * n + c)] = 0.1 + a + b + ((r / 4 + c / 4) % 2 == 0 ? 0.2 : 0.0);
    }
  return img;
}

// A complete small bilevel problem on comm, built from the options in force.
struct Fixture {
  std::unique_ptr<ImageGrid> grid;
  ForwardModel model;
  std::unique_ptr<Regulariser> reg;
  std::vector<OwnedVec> truth, data;
  std::unique_ptr<BilevelProblem> problem;

  Fixture(MPI_Comm comm, PetscInt n, PetscInt samples, PetscReal epsilon) {
    grid = std::make_unique<ImageGrid>(comm, n);
    model = create_forward_model(*grid, read_problem_options(comm));
    reg = create_regulariser(*grid);
    std::vector<Vec> t, d;
    std::vector<PetscInt> idx;
    for (PetscInt s = 0; s < samples; ++s) {
      truth.push_back(grid->create_vec());
      grid->set_from_natural(test_image(n, static_cast<int>(s)), truth.back());
      OwnedVec y;
      BILEARN_CHECK(MatCreateVecs(model.A, nullptr, y.out()));
      BILEARN_CHECK(MatMult(model.A, truth.back(), y));
      PetscInt lo, hi;  // deterministic "noise" that depends on the global index only
      BILEARN_CHECK(VecGetOwnershipRange(y, &lo, &hi));
      {
        VecArray a(y);
        for (PetscInt i = lo; i < hi; ++i) a[i - lo] += 0.05 * std::sin(1.7 * i + s);
      }
      data.push_back(std::move(y));
      t.push_back(truth.back());
      d.push_back(data.back());
      idx.push_back(s);
    }
    problem = std::make_unique<BilevelProblem>(*grid, model, *reg, epsilon, t, d, idx, samples);
  }
};

inline double relative_difference(const std::vector<PetscReal>& a, const std::vector<PetscReal>& b) {
  double num = 0, den = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    num += (a[i] - b[i]) * (a[i] - b[i]);
    den += b[i] * b[i];
  }
  return std::sqrt(num / den);
}

}  // namespace bilearn::testing
