#include "bilearn/hypergrad/sample_problem.hpp"

#include <cmath>

#include "bilearn/core/error.hpp"

namespace bilearn {

void record_sample_quality(SampleState& s, Vec x, Vec work) {
  BILEARN_CHECK(VecWAXPY(work, -1.0, s.truth, x));
  PetscReal err, peak;
  PetscInt n;
  BILEARN_CHECK(VecNorm(work, NORM_2, &err));
  BILEARN_CHECK(VecMax(s.truth, nullptr, &peak));
  BILEARN_CHECK(VecGetSize(work, &n));
  s.loss = 0.5 * err * err;
  const PetscReal mse = err * err / static_cast<PetscReal>(n);
  s.psnr = mse > 0 ? 10.0 * std::log10(peak * peak / mse) : PETSC_INFINITY;
}

}  // namespace bilearn
