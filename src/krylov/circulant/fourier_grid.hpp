// The Fourier side of the circulant preconditioner (docs/algorithms.md §4.5): images of a 2-D DMDA
// (ny rows × nx columns, one unknown per pixel) embedded in an M0 × M1 periodic grid — the
// zero-padded 2ny × 2nx grid, or the image grid itself for periodic boundaries — and real
// 2-D FFTs of that grid with FFTW's MPI interface (slabs of rows; the spectrum is kept in
// FFTW's transposed layout, which is all a diagonal multiply needs).
//
// FFTW is called directly instead of through MATFFTW: PETSc 3.18's VecScatterPetscToFFTW
// creates and destroys a scatter on every call, and its sequential and parallel real layouts
// differ. Here one scatter, made once, maps the DMDA's global vector into the padded real
// layout, and the plans and buffer are made once per grid.
#pragma once
#include <fftw3-mpi.h>
#include <petscdmda.h>

#include <functional>
#include <vector>

#include "bilearn/core/handles.hpp"

namespace bilearn::krylov {

class FourierGrid {
 public:
  // dm: a 2-D DMDA with one degree of freedom; periodic: M = image size, else M = 2 × image size.
  FourierGrid(DM dm, bool periodic);
  ~FourierGrid();
  FourierGrid(const FourierGrid&) = delete;
  FourierGrid& operator=(const FourierGrid&) = delete;

  PetscInt rows() const noexcept { return ny_; }  // image rows (DMDA y)
  PetscInt cols() const noexcept { return nx_; }  // image columns (DMDA x)
  PetscInt m0() const noexcept { return m0_; }    // periodic grid rows
  PetscInt m1() const noexcept { return m1_; }    // periodic grid columns
  bool periodic() const noexcept { return periodic_; }
  // Rows [first_row(), first_row() + local_rows()) of the periodic grid are held on this rank.
  PetscInt first_row() const noexcept { return static_cast<PetscInt>(local_0_start_); }
  PetscInt local_rows() const noexcept { return static_cast<PetscInt>(local_n0_); }

  // Symbol of the circulant whose first column is the kernel k (k(d0, d1) for offsets taken
  // modulo M0, M1; called for every grid point this rank holds): the real parts of its DFT,
  // i.e. the DFT of k's even part, in the local spectral layout. Collective.
  std::vector<PetscReal> symbol(const std::function<PetscReal(PetscInt, PetscInt)>& kernel);
  // Mean of a symbol over the whole spectrum (= the circulant's constant diagonal). Collective.
  PetscReal spectral_mean(const std::vector<PetscReal>& symbol) const;
  // Spectral point count of the local layout (length of every symbol).
  size_t spectral_size() const noexcept { return static_cast<size_t>(local_n1_ * m0_); }

  // out = crop(F⁻¹(diag(multiplier) F(pad(in)))) for DMDA global vectors in, out (may alias).
  // multiplier holds the unnormalised factors: divide by M0·M1 in it. Collective.
  void filter(Vec in, Vec out, const std::vector<PetscReal>& multiplier);

 private:
  MPI_Comm comm_;
  bool periodic_;
  PetscInt nx_ = 0, ny_ = 0, m0_ = 0, m1_ = 0, row_stride_ = 0;
  ptrdiff_t local_n0_ = 0, local_0_start_ = 0, local_n1_ = 0, local_1_start_ = 0;
  double* buffer_ = nullptr;  // in-place real ↔ complex array (FFTW's allocation)
  fftw_plan forward_ = nullptr, backward_ = nullptr;
  OwnedVec real_view_;          // buffer_'s real layout as a PETSc Vec (rows of row_stride_)
  OwnedScatter image_to_grid_;  // DMDA global vector → real_view_ (image in the top-left block)
};

}  // namespace bilearn::krylov
