#include "bilearn/core/block_dots.hpp"

#include <optional>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"

namespace bilearn {

void block_dots(MPI_Comm comm, PetscInt blocks, std::initializer_list<std::pair<Vec, Vec>> pairs,
                std::vector<PetscReal>& out) {
  const PetscInt B = blocks;
  out.assign(pairs.size() * static_cast<size_t>(B), 0.0);
  size_t k = 0;
  for (const auto& [x, y] : pairs) {
    PetscInt n;
    BILEARN_CHECK(VecGetLocalSize(x, &n));
    const PetscInt local = n / B;
    ConstVecArray a(x);
    std::optional<ConstVecArray> other;  // y's array when y is another vector (no allocation)
    if (y != x) other.emplace(y);
    const PetscScalar* b = other ? other->data() : a.data();
    for (PetscInt s = 0; s < B; ++s) {
      PetscReal sum = 0;
      const PetscScalar* xs = a.data() + s * local;
      const PetscScalar* ys = b + s * local;
      for (PetscInt i = 0; i < local; ++i) sum += xs[i] * ys[i];
      out[k * static_cast<size_t>(B) + static_cast<size_t>(s)] = sum;
    }
    ++k;
  }
  BILEARN_CHECK(MPI_Allreduce(MPI_IN_PLACE, out.data(), static_cast<int>(out.size()), MPIU_REAL, MPIU_SUM, comm));
}

}  // namespace bilearn
