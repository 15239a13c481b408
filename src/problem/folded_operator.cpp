#include "bilearn/problem/folded_operator.hpp"

#include <cmath>
#include <map>
#include <memory>
#include <utility>

#include "bilearn/core/error.hpp"
#include "bilearn/problem/explicit_transpose.hpp"

namespace bilearn {
namespace {

constexpr const char* key = "bilearn_folded_operator";

// What every shell of one folded operator shares: A_h, P and the scatters between the
// interlaced vectors of b columns and MAIJ(A_h, 2b)'s (component q < b: column q of the top
// half; q = b + s: column s of the bottom half, i.e. of A_h applied to P x_s).
struct Folded {
  struct Block {
    OwnedMat maij, maij_t;  // MAIJ(A_h, 2b) and MAIJ(A_hᵀ, 2b) (null when A_hᵀ is not stored)
    OwnedVec X, Y;          // its input and output
    OwnedScatter in;        // x_b → X: (x_s, (P x)_s) per pixel
    OwnedScatter out;       // Y → y_b: top rows, then bottom rows
  };

  MPI_Comm comm = MPI_COMM_NULL;
  OwnedMat half;
  std::vector<PetscInt> source;
  PetscInt rows_local = 0;   // rows of A here
  PetscInt half_rows = 0;    // H: rows of A_h (A has 2H)
  PetscInt half_local = 0;   // rows of A_h here
  PetscInt half_start = 0;   // first row of A_h here
  PetscInt pixels_local = 0, pixel_start = 0;
  std::map<PetscInt, std::unique_ptr<Block>> blocks;
  OwnedScatter permute;                 // x → P x on the grid
  OwnedScatter stack_top, stack_bottom;  // A_h's row layout → the top / bottom rows of A

  Block& block(PetscInt b);
  void make_permute();
  void make_stack();
};

OwnedVec layout_only(MPI_Comm comm, PetscInt local) {
  OwnedVec v;
  BILEARN_CHECK(VecCreateMPIWithArray(comm, 1, local, PETSC_DETERMINE, nullptr, v.out()));
  return v;
}

OwnedScatter scatter_between(Vec from, const std::vector<PetscInt>& from_idx, Vec to, const std::vector<PetscInt>& to_idx) {
  OwnedIS is_from, is_to;
  MPI_Comm comm = PetscObjectComm((PetscObject)from);
  BILEARN_CHECK(ISCreateGeneral(comm, static_cast<PetscInt>(from_idx.size()), from_idx.data(), PETSC_COPY_VALUES,
                                is_from.out()));
  BILEARN_CHECK(
      ISCreateGeneral(comm, static_cast<PetscInt>(to_idx.size()), to_idx.data(), PETSC_COPY_VALUES, is_to.out()));
  OwnedScatter s;
  BILEARN_CHECK(VecScatterCreate(from, is_from, to, is_to, s.out()));
  return s;
}

Folded::Block& Folded::block(PetscInt b) {
  auto& slot = blocks[b];
  if (slot) return *slot;
  auto blk = std::make_unique<Block>();
  const PetscInt c = 2 * b;
  BILEARN_CHECK(MatCreateMAIJ(half, c, blk->maij.out()));
  if (Mat At = explicit_transpose(half)) BILEARN_CHECK(MatCreateMAIJ(At, c, blk->maij_t.out()));
  BILEARN_CHECK(MatCreateVecs(blk->maij, blk->X.out(), blk->Y.out()));

  const OwnedVec xb = layout_only(comm, b * pixels_local);
  std::vector<PetscInt> from, to;
  from.reserve(static_cast<size_t>(c * pixels_local));
  to.reserve(from.capacity());
  for (PetscInt k = 0; k < pixels_local; ++k) {
    const PetscInt g = pixel_start + k;
    for (PetscInt s = 0; s < b; ++s) {
      from.push_back(b * g + s);
      to.push_back(c * g + s);
      from.push_back(b * source[static_cast<size_t>(k)] + s);
      to.push_back(c * g + b + s);
    }
  }
  blk->in = scatter_between(xb, from, blk->X, to);

  const OwnedVec yb = layout_only(comm, b * rows_local);
  from.clear();
  to.clear();
  for (PetscInt l = 0; l < half_local; ++l) {
    const PetscInt row = half_start + l;
    for (PetscInt s = 0; s < b; ++s) {
      from.push_back(c * row + s);
      to.push_back(b * row + s);
      from.push_back(c * row + b + s);
      to.push_back(b * (half_rows + row) + s);
    }
  }
  blk->out = scatter_between(blk->Y, from, yb, to);
  slot = std::move(blk);
  return *slot;
}

void Folded::make_permute() {
  if (permute) return;
  const OwnedVec x = layout_only(comm, pixels_local);
  std::vector<PetscInt> to(static_cast<size_t>(pixels_local));
  for (PetscInt k = 0; k < pixels_local; ++k) to[static_cast<size_t>(k)] = pixel_start + k;
  permute = scatter_between(x, source, x, to);
}

void Folded::make_stack() {
  if (stack_top) return;
  const OwnedVec h = layout_only(comm, half_local);
  const OwnedVec y = layout_only(comm, rows_local);
  std::vector<PetscInt> from(static_cast<size_t>(half_local)), top(from.size()), bottom(from.size());
  for (PetscInt l = 0; l < half_local; ++l) {
    from[static_cast<size_t>(l)] = half_start + l;
    top[static_cast<size_t>(l)] = half_start + l;
    bottom[static_cast<size_t>(l)] = half_rows + half_start + l;
  }
  stack_top = scatter_between(h, from, y, top);
  stack_bottom = scatter_between(h, from, y, bottom);
}

// A shell's context: the shared data and its number of columns.
struct ShellContext {
  std::shared_ptr<Folded> folded;
  PetscInt b = 1;
};

PetscErrorCode destroy_context(void* ctx) {
  delete static_cast<ShellContext*>(ctx);
  return 0;
}

ShellContext& context_of(Mat shell) {
  void* ctx = nullptr;
  BILEARN_CHECK(MatShellGetContext(shell, &ctx));
  return *static_cast<ShellContext*>(ctx);
}

void scatter(VecScatter s, Vec from, Vec to, InsertMode mode, ScatterMode direction) {
  BILEARN_CHECK(VecScatterBegin(s, from, to, mode, direction));
  BILEARN_CHECK(VecScatterEnd(s, from, to, mode, direction));
}

PetscErrorCode shell_mult(Mat shell, Vec x, Vec y) {
  return guarded(PetscObjectComm((PetscObject)shell), "folded operator", [&] {
    ShellContext& c = context_of(shell);
    Folded::Block& blk = c.folded->block(c.b);
    scatter(blk.in, x, blk.X, INSERT_VALUES, SCATTER_FORWARD);
    BILEARN_CHECK(MatMult(blk.maij, blk.X, blk.Y));
    scatter(blk.out, blk.Y, y, INSERT_VALUES, SCATTER_FORWARD);
  });
}

PetscErrorCode shell_mult_transpose(Mat shell, Vec y, Vec x) {
  return guarded(PetscObjectComm((PetscObject)shell), "folded operator", [&] {
    ShellContext& c = context_of(shell);
    Folded::Block& blk = c.folded->block(c.b);
    scatter(blk.out, y, blk.Y, INSERT_VALUES, SCATTER_REVERSE);
    if (blk.maij_t)
      BILEARN_CHECK(MatMult(blk.maij_t, blk.Y, blk.X));
    else
      BILEARN_CHECK(MatMultTranspose(blk.maij, blk.Y, blk.X));
    BILEARN_CHECK(VecZeroEntries(x));
    scatter(blk.in, blk.X, x, ADD_VALUES, SCATTER_REVERSE);  // x = u₁ + Pᵀ u₂
  });
}

// Nonzeros of A: twice those of A_h (the rest of the information is A_h's).
PetscErrorCode shell_get_info(Mat shell, MatInfoType flag, MatInfo* info) {
  return guarded(PetscObjectComm((PetscObject)shell), "folded operator", [&] {
    BILEARN_CHECK(MatGetInfo(context_of(shell).folded->half, flag, info));
    info->nz_used *= 2;
    info->nz_allocated *= 2;
    info->nz_unneeded *= 2;
  });
}

// ‖A‖_F = √2 ‖A_h‖_F (P is a permutation); the other norms are not offered.
PetscErrorCode shell_norm(Mat shell, NormType type, PetscReal* norm) {
  return guarded(PetscObjectComm((PetscObject)shell), "folded operator", [&] {
    require(type == NORM_FROBENIUS, "folded operator: only the Frobenius norm is available");
    BILEARN_CHECK(MatNorm(context_of(shell).folded->half, NORM_FROBENIUS, norm));
    *norm *= std::sqrt(2.0);
  });
}

OwnedMat make_shell(const std::shared_ptr<Folded>& folded, PetscInt b) {
  PetscInt rows = 0, cols = 0;
  BILEARN_CHECK(MatGetSize(folded->half, &rows, &cols));
  auto* ctx = new ShellContext{folded, b};
  OwnedMat shell;
  PetscErrorCode ierr = MatCreateShell(folded->comm, b * folded->rows_local, b * folded->pixels_local, 2 * b * rows,
                                       b * cols, ctx, shell.out());
  if (ierr) {
    delete ctx;
    BILEARN_CHECK(ierr);
  }
  BILEARN_CHECK(MatSetBlockSizes(shell, b, b));  // as MAIJ(A, b): interlaced vectors of b components
  PetscContainer container = nullptr;
  BILEARN_CHECK(PetscContainerCreate(folded->comm, &container));
  BILEARN_CHECK(PetscContainerSetPointer(container, ctx));
  BILEARN_CHECK(PetscContainerSetUserDestroy(container, destroy_context));
  BILEARN_CHECK(PetscObjectCompose((PetscObject)shell.get(), key, (PetscObject)container));
  BILEARN_CHECK(PetscContainerDestroy(&container));
  BILEARN_CHECK(MatShellSetOperation(shell, MATOP_MULT, (void (*)(void))shell_mult));
  BILEARN_CHECK(MatShellSetOperation(shell, MATOP_MULT_TRANSPOSE, (void (*)(void))shell_mult_transpose));
  BILEARN_CHECK(MatShellSetOperation(shell, MATOP_GETINFO, (void (*)(void))shell_get_info));
  BILEARN_CHECK(MatShellSetOperation(shell, MATOP_NORM, (void (*)(void))shell_norm));
  return shell;
}

// The shared data of a folded shell, or null.
Folded* folded_of(Mat A) {
  if (!A) return nullptr;
  PetscObject container = nullptr;
  BILEARN_CHECK(PetscObjectQuery((PetscObject)A, key, &container));
  if (!container) return nullptr;
  void* ctx = nullptr;
  BILEARN_CHECK(PetscContainerGetPointer((PetscContainer)container, &ctx));
  return static_cast<ShellContext*>(ctx)->folded.get();
}

Folded& require_folded(Mat A) {
  Folded* f = folded_of(A);
  if (!f) throw std::logic_error("not a folded operator");
  return *f;
}

}  // namespace

OwnedMat create_folded_operator(OwnedMat half, const std::vector<PetscInt>& source, PetscInt rows_local) {
  auto f = std::make_shared<Folded>();
  f->comm = PetscObjectComm((PetscObject)half.get());
  BILEARN_CHECK(MatGetSize(half, &f->half_rows, nullptr));
  BILEARN_CHECK(MatGetLocalSize(half, &f->half_local, &f->pixels_local));
  BILEARN_CHECK(MatGetOwnershipRange(half, &f->half_start, nullptr));
  BILEARN_CHECK(MatGetOwnershipRangeColumn(half, &f->pixel_start, nullptr));
  require(static_cast<PetscInt>(source.size()) == f->pixels_local, "folded operator: one source pixel per pixel");
  f->half = std::move(half);
  f->source = source;
  f->rows_local = rows_local;
  return make_shell(f, 1);
}

Mat folded_half(Mat A) {
  Folded* f = folded_of(A);
  return f ? f->half.get() : nullptr;
}

OwnedMat block_operator(Mat A, PetscInt b) {
  OwnedMat op;
  if (folded_of(A)) {
    if (b == 1) {
      BILEARN_CHECK(PetscObjectReference((PetscObject)A));
      return OwnedMat(A);
    }
    return make_shell(context_of(A).folded, b);
  }
  BILEARN_CHECK(MatCreateMAIJ(A, b, op.out()));
  return op;
}

void folded_permute(Mat A, Vec x, Vec out) {
  Folded& f = require_folded(A);
  f.make_permute();
  scatter(f.permute, x, out, INSERT_VALUES, SCATTER_FORWARD);
}

void folded_permute_transpose_add(Mat A, Vec x, Vec out) {
  Folded& f = require_folded(A);
  f.make_permute();
  scatter(f.permute, x, out, ADD_VALUES, SCATTER_REVERSE);
}

void folded_stack(Mat A, Vec first, Vec second, Vec y) {
  Folded& f = require_folded(A);
  f.make_stack();
  scatter(f.stack_top, first, y, INSERT_VALUES, SCATTER_FORWARD);
  scatter(f.stack_bottom, second, y, INSERT_VALUES, SCATTER_FORWARD);
}

}  // namespace bilearn
