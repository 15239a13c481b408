// The image grid: an N×N 2-D DMDA (one unknown per pixel, box stencil). Every image in
// bilearn is a global vector of this DMDA. Natural ordering: row-major, row 0 at the top,
// pixel (row r, column c) has natural index r·N + c; DMDA index i ↔ x = c, j = r.
#pragma once
#include <petscdmda.h>

#include <vector>

#include "bilearn/core/handles.hpp"

namespace bilearn {

class ImageGrid {
 public:
  // stencil_width: ghost width for stencil operations (2 covers 5×5 filters).
  ImageGrid(MPI_Comm comm, PetscInt n, PetscInt stencil_width = 2);

  MPI_Comm comm() const;
  DM dm() const noexcept { return dm_; }
  PetscInt n() const noexcept { return n_; }  // image side
  PetscInt pixels() const noexcept { return n_ * n_; }
  // Owned block: columns [x0, x0+nx), rows [y0, y0+ny).
  PetscInt x0() const noexcept { return x0_; }
  PetscInt y0() const noexcept { return y0_; }
  PetscInt nx() const noexcept { return nx_; }
  PetscInt ny() const noexcept { return ny_; }
  PetscInt local_size() const noexcept { return nx_ * ny_; }
  // First global (PETSc-ordering) index owned by this rank.
  PetscInt ownership_start() const noexcept { return start_; }

  OwnedVec create_vec() const;

  // Global PETSc index of every natural index [natural_begin, natural_end) (any rank may ask).
  std::vector<PetscInt> petsc_indices(PetscInt natural_begin, PetscInt natural_end) const;
  // Natural index of every locally owned pixel, in local storage order.
  std::vector<PetscInt> local_natural_indices() const;

  // Gathers an image in natural order onto rank 0 (empty on other ranks). Collective.
  std::vector<PetscScalar> gather_natural(Vec image) const;
  // Fills an image from a natural-order array that every rank holds in full. Not collective.
  void set_from_natural(const std::vector<PetscScalar>& natural, Vec image) const;

 private:
  OwnedDM dm_;
  PetscInt n_ = 0, x0_ = 0, y0_ = 0, nx_ = 0, ny_ = 0, start_ = 0;
};

// Gathers v (a global vector of the DMDA dm, or any vector of its parallel layout) in natural
// order onto rank 0 of dm's communicator (empty on other ranks). Collective.
std::vector<PetscScalar> gather_natural(DM dm, Vec v);

}  // namespace bilearn
