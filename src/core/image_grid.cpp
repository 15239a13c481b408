#include "bilearn/core/image_grid.hpp"

#include <string>

#include "bilearn/core/error.hpp"

namespace bilearn {

ImageGrid::ImageGrid(MPI_Comm comm, PetscInt n, PetscInt stencil_width) : n_(n) {
  require(n > 0, "the image side must be positive, got " + std::to_string(n));
  PetscMPIInt size;
  MPI_Comm_size(comm, &size);
  require(n >= size,
          "the image side " + std::to_string(n) + " is smaller than the number of ranks " + std::to_string(size));
  BILEARN_CHECK(DMDACreate2d(comm, DM_BOUNDARY_NONE, DM_BOUNDARY_NONE, DMDA_STENCIL_BOX, n, n, PETSC_DECIDE,
                             PETSC_DECIDE, 1, stencil_width, nullptr, nullptr, dm_.out()));
  BILEARN_CHECK(DMSetUp(dm_));
  BILEARN_CHECK(DMDAGetCorners(dm_, &x0_, &y0_, nullptr, &nx_, &ny_, nullptr));
  OwnedVec v = create_vec();
  BILEARN_CHECK(VecGetOwnershipRange(v, &start_, nullptr));
}

MPI_Comm ImageGrid::comm() const {
  return PetscObjectComm((PetscObject)dm_.get());
}

OwnedVec ImageGrid::create_vec() const {
  OwnedVec v;
  BILEARN_CHECK(DMCreateGlobalVector(dm_, v.out()));
  return v;
}

std::vector<PetscInt> ImageGrid::petsc_indices(PetscInt natural_begin, PetscInt natural_end) const {
  AO ao;
  BILEARN_CHECK(DMDAGetAO(dm_, &ao));  // owned by the DM
  std::vector<PetscInt> idx;
  idx.reserve(static_cast<size_t>(natural_end - natural_begin));
  for (PetscInt k = natural_begin; k < natural_end; ++k) idx.push_back(k);
  BILEARN_CHECK(AOApplicationToPetsc(ao, static_cast<PetscInt>(idx.size()), idx.data()));
  return idx;
}

std::vector<PetscInt> ImageGrid::local_natural_indices() const {
  std::vector<PetscInt> idx;
  idx.reserve(static_cast<size_t>(local_size()));
  for (PetscInt j = y0_; j < y0_ + ny_; ++j)
    for (PetscInt i = x0_; i < x0_ + nx_; ++i) idx.push_back(j * n_ + i);
  return idx;
}

std::vector<PetscScalar> ImageGrid::gather_natural(Vec image) const {
  return bilearn::gather_natural(dm_, image);
}

std::vector<PetscScalar> gather_natural(DM dm, Vec v) {
  OwnedVec natural;
  BILEARN_CHECK(DMDACreateNaturalVector(dm, natural.out()));
  BILEARN_CHECK(DMDAGlobalToNaturalBegin(dm, v, INSERT_VALUES, natural));
  BILEARN_CHECK(DMDAGlobalToNaturalEnd(dm, v, INSERT_VALUES, natural));
  OwnedScatter to_zero;
  OwnedVec on_zero;
  BILEARN_CHECK(VecScatterCreateToZero(natural, to_zero.out(), on_zero.out()));
  BILEARN_CHECK(VecScatterBegin(to_zero, natural, on_zero, INSERT_VALUES, SCATTER_FORWARD));
  BILEARN_CHECK(VecScatterEnd(to_zero, natural, on_zero, INSERT_VALUES, SCATTER_FORWARD));
  PetscInt m;
  BILEARN_CHECK(VecGetLocalSize(on_zero, &m));
  ConstVecArray a(on_zero);
  return std::vector<PetscScalar>(a.data(), a.data() + m);
}

void ImageGrid::set_from_natural(const std::vector<PetscScalar>& natural, Vec image) const {
  require(static_cast<PetscInt>(natural.size()) == pixels(),
          "image has " + std::to_string(natural.size()) + " pixels, the grid needs " + std::to_string(pixels()));
  VecArray a(image);
  PetscInt k = 0;
  for (PetscInt j = y0_; j < y0_ + ny_; ++j)
    for (PetscInt i = x0_; i < x0_ + nx_; ++i) a[k++] = natural[static_cast<size_t>(j * n_ + i)];
}

}  // namespace bilearn
