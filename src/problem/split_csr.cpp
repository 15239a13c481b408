#include "bilearn/problem/split_csr.hpp"

#include <memory>
#include <utility>

#include "bilearn/core/error.hpp"

namespace bilearn {
namespace {

constexpr const char* key = "bilearn_split_csr";

PetscErrorCode destroy_split_csr(void* ctx) {
  delete static_cast<SplitCsr*>(ctx);
  return 0;
}

// A zero-length std::vector may hold no buffer; PETSc wants valid pointers.
template <class T>
void ensure_buffer(std::vector<T>& v) {
  if (v.capacity() == 0) v.reserve(1);
}

}  // namespace

double split_csr_bytes(PetscInt m, double nnz) {
  return nnz * static_cast<double>(sizeof(PetscScalar) + sizeof(PetscInt)) +
         2.0 * static_cast<double>(m + 1) * sizeof(PetscInt);
}

OwnedMat create_mpiaij_from_split(MPI_Comm comm, PetscInt m, PetscInt n, PetscInt M, PetscInt N, SplitCsr&& csr) {
  auto owned = std::make_unique<SplitCsr>(std::move(csr));
  for (auto* v : {&owned->i, &owned->j, &owned->oi, &owned->oj}) ensure_buffer(*v);
  for (auto* v : {&owned->a, &owned->oa}) ensure_buffer(*v);
  PetscContainer container = nullptr;
  BILEARN_CHECK(PetscContainerCreate(comm, &container));
  BILEARN_CHECK(PetscContainerSetPointer(container, owned.get()));
  BILEARN_CHECK(PetscContainerSetUserDestroy(container, destroy_split_csr));
  SplitCsr* arrays = owned.release();  // the container frees it from now on
  OwnedMat A;
  PetscErrorCode ierr =
      MatCreateMPIAIJWithSplitArrays(comm, m, n, M, N, arrays->i.data(), arrays->j.data(), arrays->a.data(),
                                     arrays->oi.data(), arrays->oj.data(), arrays->oa.data(), A.out());
  if (!ierr) ierr = PetscObjectCompose((PetscObject)A.get(), key, (PetscObject)container);  // A holds a reference
  PetscContainerDestroy(&container);
  BILEARN_CHECK(ierr);
  return A;
}

}  // namespace bilearn
