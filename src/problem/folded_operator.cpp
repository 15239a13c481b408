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

// One stored part A_p, its transforms, and what its products need: for b columns,
// MAIJ(A_p, m·b) (component t·b + s: column s read through T_t) and the scatters between the
// b-column vectors and MAIJ's.
struct Part {
  struct Block {
    OwnedMat maij, maij_t;              // MAIJ(A_p, m·b) and MAIJ(A_pᵀ, m·b) (null when A_pᵀ is not stored)
    bool forward_by_transpose = false;  // A x as (A_pᵀ)ᵀ X: X read in order (see Folded)
    OwnedVec X, Y;                      // its input and output
    OwnedScatter in;                    // x_b → X: (T_0 x, …, T_{m−1} x) per pixel
    OwnedScatter out;                   // Y → y_b: the target rows
  };
  OwnedMat rows;
  std::vector<std::vector<PetscInt>> sources;
  std::vector<PetscInt> targets;
  PetscInt rows_local = 0, row_start = 0;
  std::map<PetscInt, std::unique_ptr<Block>> blocks;
  std::vector<OwnedScatter> transform;  // x → T_t x on the grid, made when first used
  std::vector<OwnedScatter> place;      // A_p's rows → the target rows of transform t
  PetscInt transforms() const { return static_cast<PetscInt>(sources.size()); }
};

// What every shell of one folded operator shares.
struct Folded {
  MPI_Comm comm = MPI_COMM_NULL;
  std::vector<Part> parts;
  PetscInt rows_local = 0, rows_global = 0;  // of A
  PetscInt pixels_local = 0, pixel_start = 0, pixels = 0;
  PetscInt pixels_local_max = 0;  // over ranks
  // MAIJ(A_p, c)'s rows are rays, one angle after another: each angle sweeps the whole image,
  // so A_p X reads the c-component X once per stored angle unless X stays in cache. Above this
  // many bytes of X per rank the forward product runs as MatMultTranspose of the stored A_pᵀ,
  // which reads X once, in order, and scatters into the (much smaller) rays' Y. Measured on
  // 2 ranks, b = 4, c = 16: N = 512 (16.8 MB per rank) 156 → 51 ms; N = 384 (9.4 MB) 38 ≈ 36
  // ms; on 1 rank N = 256 (8.4 MB) the row-wise product was faster (12–16 against 23–25 ms).
  // Set from -tomo_fold_transposed_mb (default 12 MiB, xray_model.cpp).
  double forward_by_transpose_bytes = 0;

  Part::Block& block(Part& part, PetscInt b);
  VecScatter transform(Part& part, PetscInt t);
  VecScatter place(Part& part, PetscInt t);
};

// A vector with this layout and no array (for creating scatters).
OwnedVec layout_only(MPI_Comm comm, PetscInt local) {
  OwnedVec v;
  BILEARN_CHECK(VecCreateMPIWithArray(comm, 1, local, PETSC_DETERMINE, nullptr, v.out()));
  return v;
}

// A scatter from[i] → to[i], the indices counting blocks of bs entries (block index sets: each
// block moves as one unit). Collective.
OwnedScatter scatter_between(Vec from, const std::vector<PetscInt>& from_idx, Vec to,
                             const std::vector<PetscInt>& to_idx, PetscInt bs = 1) {
  OwnedIS is_from, is_to;
  MPI_Comm comm = PetscObjectComm((PetscObject)from);
  BILEARN_CHECK(ISCreateBlock(comm, bs, static_cast<PetscInt>(from_idx.size()), from_idx.data(), PETSC_COPY_VALUES,
                              is_from.out()));
  BILEARN_CHECK(
      ISCreateBlock(comm, bs, static_cast<PetscInt>(to_idx.size()), to_idx.data(), PETSC_COPY_VALUES, is_to.out()));
  OwnedScatter s;
  BILEARN_CHECK(VecScatterCreate(from, is_from, to, is_to, s.out()));
  return s;
}

Part::Block& Folded::block(Part& part, PetscInt b) {
  auto& slot = part.blocks[b];
  if (slot) return *slot;
  auto blk = std::make_unique<Part::Block>();
  const PetscInt m = part.transforms(), c = m * b;
  BILEARN_CHECK(MatCreateMAIJ(part.rows, c, blk->maij.out()));
  if (Mat At = explicit_transpose(part.rows)) BILEARN_CHECK(MatCreateMAIJ(At, c, blk->maij_t.out()));
  BILEARN_CHECK(MatCreateVecs(blk->maij, blk->X.out(), blk->Y.out()));
  // The same choice on every rank (pixels_local_max): the two products communicate differently.
  blk->forward_by_transpose =
      blk->maij_t && static_cast<double>(pixels_local_max) * c * sizeof(PetscScalar) > forward_by_transpose_bytes;

  const OwnedVec xb = layout_only(comm, b * pixels_local);
  // In blocks of the b columns of one entry: pixel g's block t of X is T_t x at g.
  std::vector<PetscInt> from, to;
  from.reserve(static_cast<size_t>(m * pixels_local));
  to.reserve(from.capacity());
  for (PetscInt k = 0; k < pixels_local; ++k)
    for (PetscInt t = 0; t < m; ++t) {
      from.push_back(part.sources[static_cast<size_t>(t)][static_cast<size_t>(k)]);
      to.push_back(m * (pixel_start + k) + t);
    }
  blk->in = scatter_between(xb, from, blk->X, to, b);

  const OwnedVec yb = layout_only(comm, b * rows_local);
  from.clear();
  to.clear();
  for (PetscInt l = 0; l < part.rows_local; ++l)
    for (PetscInt t = 0; t < m; ++t) {
      from.push_back(m * (part.row_start + l) + t);
      to.push_back(part.targets[static_cast<size_t>(l * m + t)]);
    }
  blk->out = scatter_between(blk->Y, from, yb, to, b);
  slot = std::move(blk);
  return *slot;
}

VecScatter Folded::transform(Part& part, PetscInt t) {
  if (part.transform.empty()) part.transform.resize(static_cast<size_t>(part.transforms()));
  OwnedScatter& s = part.transform[static_cast<size_t>(t)];
  if (!s) {
    const OwnedVec x = layout_only(comm, pixels_local);
    std::vector<PetscInt> to(static_cast<size_t>(pixels_local));
    for (PetscInt k = 0; k < pixels_local; ++k) to[static_cast<size_t>(k)] = pixel_start + k;
    s = scatter_between(x, part.sources[static_cast<size_t>(t)], x, to);
  }
  return s;
}

VecScatter Folded::place(Part& part, PetscInt t) {
  if (part.place.empty()) part.place.resize(static_cast<size_t>(part.transforms()));
  OwnedScatter& s = part.place[static_cast<size_t>(t)];
  if (!s) {
    const OwnedVec h = layout_only(comm, part.rows_local);
    const OwnedVec y = layout_only(comm, rows_local);
    const PetscInt m = part.transforms();
    std::vector<PetscInt> from(static_cast<size_t>(part.rows_local)), to(from.size());
    for (PetscInt l = 0; l < part.rows_local; ++l) {
      from[static_cast<size_t>(l)] = part.row_start + l;
      to[static_cast<size_t>(l)] = part.targets[static_cast<size_t>(l * m + t)];
    }
    s = scatter_between(h, from, y, to);
  }
  return s;
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
    for (Part& part : c.folded->parts) {
      Part::Block& blk = c.folded->block(part, c.b);
      scatter(blk.in, x, blk.X, INSERT_VALUES, SCATTER_FORWARD);
      if (blk.forward_by_transpose)
        BILEARN_CHECK(MatMultTranspose(blk.maij_t, blk.X, blk.Y));
      else
        BILEARN_CHECK(MatMult(blk.maij, blk.X, blk.Y));
      scatter(blk.out, blk.Y, y, INSERT_VALUES, SCATTER_FORWARD);  // the parts' rows are disjoint
    }
  });
}

PetscErrorCode shell_mult_transpose(Mat shell, Vec y, Vec x) {
  return guarded(PetscObjectComm((PetscObject)shell), "folded operator", [&] {
    ShellContext& c = context_of(shell);
    BILEARN_CHECK(VecZeroEntries(x));
    for (Part& part : c.folded->parts) {
      Part::Block& blk = c.folded->block(part, c.b);
      scatter(blk.out, y, blk.Y, INSERT_VALUES, SCATTER_REVERSE);
      if (blk.maij_t)
        BILEARN_CHECK(MatMult(blk.maij_t, blk.Y, blk.X));
      else
        BILEARN_CHECK(MatMultTranspose(blk.maij, blk.Y, blk.X));
      scatter(blk.in, blk.X, x, ADD_VALUES, SCATTER_REVERSE);  // x += Σ_t T_tᵀ u_t
    }
  });
}

// Nonzeros of A: each part's times its number of transforms (the rest of the information is
// the first part's).
PetscErrorCode shell_get_info(Mat shell, MatInfoType flag, MatInfo* info) {
  return guarded(PetscObjectComm((PetscObject)shell), "folded operator", [&] {
    const Folded& f = *context_of(shell).folded;
    PetscLogDouble used = 0, allocated = 0, unneeded = 0;
    for (size_t i = 0; i < f.parts.size(); ++i) {
      const Part& part = f.parts[i];
      MatInfo part_info;
      BILEARN_CHECK(MatGetInfo(part.rows, flag, &part_info));
      if (i == 0) *info = part_info;
      used += part.transforms() * part_info.nz_used;
      allocated += part.transforms() * part_info.nz_allocated;
      unneeded += part.transforms() * part_info.nz_unneeded;
    }
    info->nz_used = used;
    info->nz_allocated = allocated;
    info->nz_unneeded = unneeded;
  });
}

// ‖A‖_F² = Σ_p m_p ‖A_p‖_F² (the T_t are permutations); the other norms are not offered.
PetscErrorCode shell_norm(Mat shell, NormType type, PetscReal* norm) {
  return guarded(PetscObjectComm((PetscObject)shell), "folded operator", [&] {
    require(type == NORM_FROBENIUS, "folded operator: only the Frobenius norm is available");
    PetscReal sum = 0;
    for (const Part& part : context_of(shell).folded->parts) {
      PetscReal f = 0;
      BILEARN_CHECK(MatNorm(part.rows, NORM_FROBENIUS, &f));
      sum += part.transforms() * f * f;
    }
    *norm = std::sqrt(sum);
  });
}

OwnedMat make_shell(const std::shared_ptr<Folded>& folded, PetscInt b) {
  auto* ctx = new ShellContext{folded, b};
  OwnedMat shell;
  PetscErrorCode ierr = MatCreateShell(folded->comm, b * folded->rows_local, b * folded->pixels_local,
                                       b * folded->rows_global, b * folded->pixels, ctx, shell.out());
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

OwnedMat create_folded_operator(std::vector<FoldPart> parts, PetscInt rows_local, PetscInt rows_global,
                                double forward_by_transpose_mb) {
  require(!parts.empty(), "folded operator: no parts");
  auto f = std::make_shared<Folded>();
  f->comm = PetscObjectComm((PetscObject)parts.front().rows.get());
  f->rows_local = rows_local;
  f->rows_global = rows_global;
  BILEARN_CHECK(MatGetSize(parts.front().rows, nullptr, &f->pixels));
  BILEARN_CHECK(MatGetLocalSize(parts.front().rows, nullptr, &f->pixels_local));
  BILEARN_CHECK(MatGetOwnershipRangeColumn(parts.front().rows, &f->pixel_start, nullptr));
  MPI_Allreduce(&f->pixels_local, &f->pixels_local_max, 1, MPIU_INT, MPI_MAX, f->comm);
  f->forward_by_transpose_bytes = forward_by_transpose_mb * 1024 * 1024;
  for (FoldPart& p : parts) {
    Part part;
    part.rows = std::move(p.rows);
    part.sources = std::move(p.sources);
    part.targets = std::move(p.targets);
    BILEARN_CHECK(MatGetLocalSize(part.rows, &part.rows_local, nullptr));
    BILEARN_CHECK(MatGetOwnershipRange(part.rows, &part.row_start, nullptr));
    require(!part.sources.empty() && static_cast<PetscInt>(part.targets.size()) == part.rows_local * part.transforms(),
            "folded operator: one target row per stored row and transform");
    for (const auto& source : part.sources)
      require(static_cast<PetscInt>(source.size()) == f->pixels_local, "folded operator: one source per pixel");
    f->parts.push_back(std::move(part));
  }
  return make_shell(f, 1);
}

PetscInt fast_block_columns(Mat A, PetscInt b, PetscInt most) {
  const auto unrolled = [](PetscInt components) { return components <= 11 || components == 16 || components == 18; };
  const Folded* f = folded_of(A);
  // Called on every lockstep product with frozen blocks: no allocation.
  const auto fast = [&](PetscInt width) {
    if (!f) return unrolled(width);  // an assembled A: MAIJ(A, width) has width components
    for (const Part& part : f->parts)
      if (!unrolled(part.transforms() * width)) return false;
    return true;
  };
  for (PetscInt width = b; width <= most; ++width)
    if (fast(width)) return width;
  return b;
}

bool is_folded(Mat A) {
  return folded_of(A) != nullptr;
}

std::vector<Mat> folded_parts(Mat A) {
  std::vector<Mat> parts;
  if (Folded* f = folded_of(A))
    for (const Part& p : f->parts) parts.push_back(p.rows.get());
  return parts;
}

OwnedMat block_operator(Mat A, PetscInt b) {
  if (folded_of(A)) {
    if (b == 1) {
      BILEARN_CHECK(PetscObjectReference((PetscObject)A));
      return OwnedMat(A);
    }
    return make_shell(context_of(A).folded, b);
  }
  OwnedMat op;
  BILEARN_CHECK(MatCreateMAIJ(A, b, op.out()));
  return op;
}

void folded_apply(Mat A, Vec x, Vec y, const std::function<void(Mat part, Vec x, Vec out)>& rows) {
  Folded& f = require_folded(A);
  OwnedVec turned;
  BILEARN_CHECK(VecDuplicate(x, turned.out()));
  for (Part& part : f.parts) {
    OwnedVec out;
    BILEARN_CHECK(MatCreateVecs(part.rows, nullptr, out.out()));
    for (PetscInt t = 0; t < part.transforms(); ++t) {
      scatter(f.transform(part, t), x, turned, INSERT_VALUES, SCATTER_FORWARD);
      rows(part.rows, turned, out);
      scatter(f.place(part, t), out, y, INSERT_VALUES, SCATTER_FORWARD);
    }
  }
}

void folded_sum_over_transforms(Mat A, Vec out, const std::function<OwnedVec(Mat part)>& of_part) {
  Folded& f = require_folded(A);
  BILEARN_CHECK(VecZeroEntries(out));
  for (Part& part : f.parts) {
    const OwnedVec v = of_part(part.rows);
    for (PetscInt t = 0; t < part.transforms(); ++t)
      scatter(f.transform(part, t), v, out, ADD_VALUES, SCATTER_REVERSE);  // out[T_t(i)] += v[i]
  }
}

}  // namespace bilearn
