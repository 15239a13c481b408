#include "krylov/circulant/fourier_grid.hpp"

#include "bilearn/core/error.hpp"

namespace bilearn::krylov {
namespace {

void init_fftw_mpi_once() {
  static bool done = false;
  if (!done) fftw_mpi_init();
  done = true;
}

}  // namespace

FourierGrid::FourierGrid(DM dm, bool periodic) : comm_(PetscObjectComm((PetscObject)dm)), periodic_(periodic) {
  PetscInt dim = 0, dof = 0;
  BILEARN_CHECK(DMDAGetInfo(dm, &dim, &nx_, &ny_, nullptr, nullptr, nullptr, nullptr, &dof, nullptr, nullptr, nullptr,
                            nullptr, nullptr));
  require(dim == 2 && dof == 1, "PC circulant needs a 2-D DMDA with one unknown per pixel");
  m0_ = periodic ? ny_ : 2 * ny_;
  m1_ = periodic ? nx_ : 2 * nx_;
  row_stride_ = 2 * (m1_ / 2 + 1);

  init_fftw_mpi_once();
  const ptrdiff_t alloc = fftw_mpi_local_size_2d_transposed(m0_, m1_ / 2 + 1, comm_, &local_n0_, &local_0_start_,
                                                            &local_n1_, &local_1_start_);
  buffer_ = fftw_alloc_real(static_cast<size_t>(2 * (alloc > 0 ? alloc : 1)));
  require(buffer_ != nullptr, "PC circulant: out of memory for the FFT buffer");
  auto* spectrum = reinterpret_cast<fftw_complex*>(buffer_);
  forward_ = fftw_mpi_plan_dft_r2c_2d(m0_, m1_, buffer_, spectrum, comm_, FFTW_ESTIMATE | FFTW_MPI_TRANSPOSED_OUT);
  backward_ = fftw_mpi_plan_dft_c2r_2d(m0_, m1_, spectrum, buffer_, comm_, FFTW_ESTIMATE | FFTW_MPI_TRANSPOSED_IN);
  require(forward_ && backward_, "PC circulant: FFTW could not plan the transforms");

  BILEARN_CHECK(VecCreateMPIWithArray(comm_, 1, static_cast<PetscInt>(local_n0_) * row_stride_, PETSC_DECIDE, buffer_,
                                      real_view_.out()));

  // Owned pixel (row y, column x) of the DMDA's global vector → (y, x) of the padded grid.
  PetscInt xs, ys, xm, ym;
  BILEARN_CHECK(DMDAGetCorners(dm, &xs, &ys, nullptr, &xm, &ym, nullptr));
  OwnedVec layout;
  BILEARN_CHECK(DMCreateGlobalVector(dm, layout.out()));
  PetscInt start;
  BILEARN_CHECK(VecGetOwnershipRange(layout, &start, nullptr));
  std::vector<PetscInt> to(static_cast<size_t>(xm * ym));
  for (PetscInt y = 0; y < ym; ++y)
    for (PetscInt x = 0; x < xm; ++x) to[static_cast<size_t>(y * xm + x)] = (ys + y) * row_stride_ + xs + x;
  OwnedIS from_is, to_is;
  BILEARN_CHECK(ISCreateStride(comm_, xm * ym, start, 1, from_is.out()));
  BILEARN_CHECK(ISCreateGeneral(comm_, xm * ym, to.data(), PETSC_COPY_VALUES, to_is.out()));
  BILEARN_CHECK(VecScatterCreate(layout, from_is, real_view_, to_is, image_to_grid_.out()));
}

FourierGrid::~FourierGrid() {
  image_to_grid_ = OwnedScatter();
  real_view_ = OwnedVec();
  if (forward_) fftw_destroy_plan(forward_);
  if (backward_) fftw_destroy_plan(backward_);
  if (buffer_) fftw_free(buffer_);
}

std::vector<PetscReal> FourierGrid::symbol(const std::function<PetscReal(PetscInt, PetscInt)>& kernel) {
  for (ptrdiff_t r = 0; r < local_n0_; ++r) {
    double* row = buffer_ + r * row_stride_;
    for (PetscInt c = 0; c < m1_; ++c) row[c] = kernel(static_cast<PetscInt>(local_0_start_ + r), c);
    for (PetscInt c = m1_; c < row_stride_; ++c) row[c] = 0;
  }
  fftw_execute(forward_);
  std::vector<PetscReal> s(spectral_size());
  for (size_t k = 0; k < s.size(); ++k) s[k] = buffer_[2 * k];
  return s;
}

PetscReal FourierGrid::spectral_mean(const std::vector<PetscReal>& symbol) const {
  // The r2c spectrum holds columns k1 = 0 … M1/2; the others are their mirror images.
  PetscReal sum = 0;
  for (ptrdiff_t r = 0; r < local_n1_; ++r) {
    const ptrdiff_t k1 = local_1_start_ + r;
    const PetscReal weight = (k1 == 0 || (m1_ % 2 == 0 && k1 == m1_ / 2)) ? 1.0 : 2.0;
    for (PetscInt k0 = 0; k0 < m0_; ++k0) sum += weight * symbol[static_cast<size_t>(r * m0_ + k0)];
  }
  PetscReal total = 0;
  MPI_Allreduce(&sum, &total, 1, MPIU_REAL, MPIU_SUM, comm_);
  return total / (static_cast<PetscReal>(m0_) * static_cast<PetscReal>(m1_));
}

void FourierGrid::filter(Vec in, Vec out, const std::vector<PetscReal>& multiplier) {
  BILEARN_CHECK(VecSet(real_view_, 0.0));
  BILEARN_CHECK(VecScatterBegin(image_to_grid_, in, real_view_, INSERT_VALUES, SCATTER_FORWARD));
  BILEARN_CHECK(VecScatterEnd(image_to_grid_, in, real_view_, INSERT_VALUES, SCATTER_FORWARD));
  // The Vec wraps buffer_: make sure PETSc has no pending state before FFTW touches the memory.
  {
    PetscScalar* a = nullptr;
    BILEARN_CHECK(VecGetArray(real_view_, &a));
    fftw_execute(forward_);
    const size_t n = multiplier.size();
    for (size_t k = 0; k < n; ++k) {
      buffer_[2 * k] *= multiplier[k];
      buffer_[2 * k + 1] *= multiplier[k];
    }
    fftw_execute(backward_);
    BILEARN_CHECK(VecRestoreArray(real_view_, &a));
  }
  BILEARN_CHECK(VecScatterBegin(image_to_grid_, real_view_, out, INSERT_VALUES, SCATTER_REVERSE));
  BILEARN_CHECK(VecScatterEnd(image_to_grid_, real_view_, out, INSERT_VALUES, SCATTER_REVERSE));
}

}  // namespace bilearn::krylov
