#include "bilearn/problem/explicit_transpose.hpp"

#include <stdexcept>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/core/options.hpp"

namespace bilearn {
namespace {

constexpr const char* key = "bilearn_explicit_transpose";

Mat attached(Mat A) {
  PetscObject At = nullptr;
  BILEARN_CHECK(PetscObjectQuery((PetscObject)A, key, &At));
  if (!At) throw std::logic_error("explicit transpose missing");
  return (Mat)At;
}

PetscErrorCode mult_transpose(Mat A, Vec y, Vec x) {  // x = Aᵀ y
  return guarded(PetscObjectComm((PetscObject)A), __func__, [&] { BILEARN_CHECK(MatMult(attached(A), y, x)); });
}

PetscErrorCode mult_transpose_add(Mat A, Vec y, Vec z, Vec x) {  // x = Aᵀ y + z
  return guarded(PetscObjectComm((PetscObject)A), __func__, [&] { BILEARN_CHECK(MatMultAdd(attached(A), y, z, x)); });
}

}  // namespace

void store_explicit_transpose(Mat A) {
  if (explicit_transpose(A)) return;
  OwnedMat At;
  BILEARN_CHECK(MatTranspose(A, MAT_INITIAL_MATRIX, At.out()));
  BILEARN_CHECK(PetscObjectCompose((PetscObject)A, key, (PetscObject)At.get()));  // A holds a reference
  BILEARN_CHECK(MatSetOperation(A, MATOP_MULT_TRANSPOSE, (void (*)(void))mult_transpose));
  BILEARN_CHECK(MatSetOperation(A, MATOP_MULT_TRANSPOSE_ADD, (void (*)(void))mult_transpose_add));
}

Mat explicit_transpose(Mat A) {
  PetscObject At = nullptr;
  BILEARN_CHECK(PetscObjectQuery((PetscObject)A, key, &At));
  return (Mat)At;
}

bool read_store_transpose_option(MPI_Comm comm) {
  OptionsBlock block(comm, "", "Problem (forward model and image size)");
  return block.flag("-problem_store_transpose",
                    "store A^T explicitly for fast MatMultTranspose (twice the memory of A)", false);
}

}  // namespace bilearn
