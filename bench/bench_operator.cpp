// `bilearn bench operator [--json F]`: for every N in -bench_sizes (default 256,512) builds
// A of -problem and measures, in the same run:
//   assembly time (slowest rank); bytes of A as stored (values + column indices + row
//   pointers of the diagonal and off-diagonal blocks, all ranks); the share of each rank's
//   nonzeros in the off-diagonal (ghost) block, min and max over ranks; MatMult; the
//   implicit MatMultTranspose (the AIJ kernel); forming the stored Aᵀ and MatMultTranspose
//   through it (-problem_store_transpose); a block product of A with b = -bench_block
//   vectors (MatMatMult with a dense n×b matrix, and MAIJ on interlaced vectors) and the
//   same with the stored Aᵀ (MAIJ), against b single products; and a STREAM-triad-style
//   kernel w = αx + y (VecWAXPY) on vectors of about the same bytes as A (24 bytes per
//   entry, as STREAM counts them). Every kernel: fastest of -bench_repeats runs of at least
//   -bench_min_seconds each. Bandwidths: bytes of the matrix read / time (a block product
//   counted as b reads, so it shows what one vector's product effectively costs); each as a
//   fraction of the triad's. The construction ignores -problem_store_transpose: both
//   transposes are always measured. The kernels above are those of the whole, assembled A
//   (-tomo_fold false); where the tomography operator folds by its symmetry (the default,
//   docs/scaling.md §6), a last table times the folded operator beside it: MatMult,
//   MatMultTranspose with the parts' transposes stored, and the b-column product.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/io/json_summary.hpp"
#include "bilearn/problem/explicit_transpose.hpp"
#include "bilearn/problem/folded_operator.hpp"
#include "bilearn/problem/forward_model.hpp"

namespace bilearn {
namespace {

struct BenchOptions {
  std::vector<PetscInt> sizes;
  PetscReal min_seconds = 0.2;
  PetscInt repeats = 3;
  PetscInt block = 4;
};

BenchOptions read_bench_options(MPI_Comm comm) {
  BenchOptions o;
  OptionsBlock block(comm, "", "Operator benchmark (bilearn bench operator)");
  const std::vector<PetscReal> sizes = block.reals("-bench_sizes", "image sides N to benchmark", {256, 512}, 64);
  for (PetscReal s : sizes) {
    require(s >= 1 && s == static_cast<PetscReal>(static_cast<PetscInt>(s)),
            "-bench_sizes must be positive integers, got " + std::to_string(s));
    o.sizes.push_back(static_cast<PetscInt>(s));
  }
  require(!o.sizes.empty(), "-bench_sizes needs at least one size");
  o.min_seconds = block.real("-bench_min_seconds", "minimum measured time per kernel", o.min_seconds, 1e-3, 600);
  o.repeats = block.integer("-bench_repeats", "runs per kernel (the fastest counts)", o.repeats, 1, 100);
  o.block = block.integer("-bench_block", "vectors b in the block product", o.block, 1, 64);
  return o;
}

// Fastest of o.repeats runs of time_repeated.
template <class Op>
double fastest(MPI_Comm comm, const BenchOptions& o, Op&& op) {
  double best = 0;
  for (PetscInt k = 0; k < o.repeats; ++k) {
    const double t = time_repeated(comm, o.min_seconds, op).seconds_per_call;
    best = k == 0 ? t : std::min(best, t);
  }
  return best;
}

// Share of this rank's nonzeros in the off-diagonal block of an MPIAIJ matrix (0 otherwise).
double ghost_share(Mat A) {
  PetscBool mpi = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)A, MATMPIAIJ, &mpi));
  if (!mpi) return 0;
  Mat diag = nullptr, off = nullptr;
  BILEARN_CHECK(MatMPIAIJGetSeqAIJ(A, &diag, &off, nullptr));
  MatInfo d, o;
  BILEARN_CHECK(MatGetInfo(diag, MAT_LOCAL, &d));
  BILEARN_CHECK(MatGetInfo(off, MAT_LOCAL, &o));
  return d.nz_used + o.nz_used > 0 ? o.nz_used / (d.nz_used + o.nz_used) : 0;
}

double min_over_ranks(MPI_Comm comm, double value) {
  return -max_over_ranks(comm, -value);
}

struct Row {
  PetscInt n = 0, rows = 0, cols = 0, block = 0;
  double nnz = 0, assembly = 0, bytes = 0, transpose_bytes = 0, triad_bytes = 0;
  double ghost_min = 0, ghost_max = 0, ghost_t_min = 0, ghost_t_max = 0;          // off-diagonal share, A and Aᵀ
  double mult = 0, mult_t = 0, transpose_form = 0, mult_t_stored = 0, triad = 0;  // seconds per call
  double block_matmat = 0, block_maij = 0, block_t_maij = 0;  // seconds per block product (b vectors)
  PetscInt fold_parts = 0;                                       // 0: the operator does not fold
  double fold_bytes = 0, fold_mult = 0, fold_mult_t = 0, fold_block = 0, fold_block_t = 0;
  double bw(double b, double t) const { return t > 0 ? b / t / 1e9 : 0; }
  double mult_bw() const { return bw(bytes, mult); }
  double mult_t_bw() const { return bw(bytes, mult_t); }
  double mult_t_stored_bw() const { return bw(transpose_bytes, mult_t_stored); }
  double block_matmat_bw() const { return bw(block * bytes, block_matmat); }
  double block_maij_bw() const { return bw(block * bytes, block_maij); }
  double block_t_maij_bw() const { return bw(block * transpose_bytes, block_t_maij); }
  double triad_bw() const { return bw(triad_bytes, triad); }
  // The folded operator as the bandwidth the whole A would need for the same time.
  double fold_mult_bw() const { return bw(bytes, fold_mult); }
  double fold_mult_t_bw() const { return bw(transpose_bytes, fold_mult_t); }
};

// The model with -tomo_fold set to fold for the call (the user's value, if any, restored).
ForwardModel create_model(const ImageGrid& grid, const ProblemOptions& problem, bool fold) {
  char previous[32] = {0};
  PetscBool had = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsGetString(nullptr, nullptr, "-tomo_fold", previous, sizeof(previous), &had));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-tomo_fold", fold ? "true" : "false"));
  ForwardModel model = create_forward_model(grid, problem);
  if (had)
    BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-tomo_fold", previous[0] ? previous : nullptr));
  else
    BILEARN_CHECK(PetscOptionsClearValue(nullptr, "-tomo_fold"));
  return model;
}

// The folded operator's products (MatMult, MatMultTranspose with the parts' transposes
// stored, b columns both ways), when -problem folds.
void measure_folded(MPI_Comm comm, const ImageGrid& grid, ProblemOptions problem, const BenchOptions& o, Row& r,
                    PetscRandom random) {
  if (problem.type != "tomo") return;
  problem.transpose.choice = TransposeChoice::stored;
  const ForwardModel folded = create_model(grid, problem, true);
  if (!is_folded(folded.A)) return;
  r.fold_parts = static_cast<PetscInt>(folded_parts(folded.A).size());
  r.fold_bytes = sum_over_ranks(comm, local_stored_bytes(folded.A));
  OwnedVec x, y;
  BILEARN_CHECK(MatCreateVecs(folded.A, x.out(), y.out()));
  BILEARN_CHECK(VecSetRandom(x, random));
  BILEARN_CHECK(VecSetRandom(y, random));
  r.fold_mult = fastest(comm, o, [&] { BILEARN_CHECK(MatMult(folded.A, x, y)); });
  r.fold_mult_t = fastest(comm, o, [&] { BILEARN_CHECK(MatMultTranspose(folded.A, y, x)); });
  const OwnedMat block = block_operator(folded.A, o.block);
  OwnedVec X, Y;
  BILEARN_CHECK(MatCreateVecs(block, X.out(), Y.out()));
  BILEARN_CHECK(VecSetRandom(X, random));
  BILEARN_CHECK(VecSetRandom(Y, random));
  r.fold_block = fastest(comm, o, [&] { BILEARN_CHECK(MatMult(block, X, Y)); });
  r.fold_block_t = fastest(comm, o, [&] { BILEARN_CHECK(MatMultTranspose(block, Y, X)); });
}

// b products of op (a Mat) with b columns: a dense block (MatMatMult) and MAIJ.
double time_matmat(MPI_Comm comm, const BenchOptions& o, Mat A, PetscRandom random) {
  PetscInt m = 0, n = 0, M = 0, N = 0;
  BILEARN_CHECK(MatGetLocalSize(A, &m, &n));
  BILEARN_CHECK(MatGetSize(A, &M, &N));
  OwnedMat X, Y;
  BILEARN_CHECK(MatCreateDense(comm, n, PETSC_DECIDE, N, o.block, nullptr, X.out()));
  BILEARN_CHECK(MatSetRandom(X, random));
  BILEARN_CHECK(MatMatMult(A, X, MAT_INITIAL_MATRIX, PETSC_DEFAULT, Y.out()));
  Mat y = Y;
  return fastest(comm, o, [&] { BILEARN_CHECK(MatMatMult(A, X, MAT_REUSE_MATRIX, PETSC_DEFAULT, &y)); });
}

double time_maij(MPI_Comm comm, const BenchOptions& o, Mat A, PetscRandom random) {
  OwnedMat block;
  BILEARN_CHECK(MatCreateMAIJ(A, o.block, block.out()));
  OwnedVec x, y;
  BILEARN_CHECK(MatCreateVecs(block, x.out(), y.out()));
  BILEARN_CHECK(VecSetRandom(x, random));
  return fastest(comm, o, [&] { BILEARN_CHECK(MatMult(block, x, y)); });
}

Row measure(MPI_Comm comm, ProblemOptions problem, const BenchOptions& o) {
  Row r;
  r.n = problem.n;
  r.block = o.block;
  const ImageGrid grid(comm, problem.n);
  problem.transpose.choice = TransposeChoice::implicit;  // formed below, timed on its own
  BILEARN_CHECK(MPI_Barrier(comm));
  const double start = MPI_Wtime();
  const ForwardModel model = create_model(grid, problem, false);
  r.assembly = max_over_ranks(comm, MPI_Wtime() - start);
  Mat A = model.A;
  BILEARN_CHECK(MatGetSize(A, &r.rows, &r.cols));
  MatInfo info;
  BILEARN_CHECK(MatGetInfo(A, MAT_GLOBAL_SUM, &info));
  r.nnz = info.nz_used;
  r.bytes = sum_over_ranks(comm, local_matrix_bytes(A));
  r.ghost_min = min_over_ranks(comm, ghost_share(A));
  r.ghost_max = max_over_ranks(comm, ghost_share(A));

  OwnedVec x, y;
  BILEARN_CHECK(MatCreateVecs(A, x.out(), y.out()));
  OwnedRandom random;
  BILEARN_CHECK(PetscRandomCreate(comm, random.out()));
  BILEARN_CHECK(VecSetRandom(x, random));
  BILEARN_CHECK(VecSetRandom(y, random));
  r.mult = fastest(comm, o, [&] { BILEARN_CHECK(MatMult(A, x, y)); });
  r.mult_t = fastest(comm, o, [&] { mult_transpose_implicit(A, y, x); });
  r.block_matmat = time_matmat(comm, o, A, random);
  r.block_maij = time_maij(comm, o, A, random);

  // The same product with Aᵀ stored (-problem_store_transpose): MatMultTranspose(A) = MatMult(Aᵀ).
  BILEARN_CHECK(MPI_Barrier(comm));
  const double form_start = MPI_Wtime();
  store_explicit_transpose(A);
  r.transpose_form = max_over_ranks(comm, MPI_Wtime() - form_start);
  const Mat At = explicit_transpose(A);
  r.transpose_bytes = sum_over_ranks(comm, local_matrix_bytes(At));
  r.ghost_t_min = min_over_ranks(comm, ghost_share(At));
  r.ghost_t_max = max_over_ranks(comm, ghost_share(At));
  r.mult_t_stored = fastest(comm, o, [&] { BILEARN_CHECK(MatMultTranspose(A, y, x)); });
  r.block_t_maij = time_maij(comm, o, At, random);
  measure_folded(comm, grid, problem, o, r, random);

  // Triad on vectors with as many bytes as A: w = αu + v moves 3 × 8 bytes per entry.
  const PetscInt length = std::max<PetscInt>(static_cast<PetscInt>(r.bytes / (3 * sizeof(PetscScalar))), 1);
  OwnedVec u, v, w;
  BILEARN_CHECK(VecCreateMPI(comm, PETSC_DECIDE, length, u.out()));
  BILEARN_CHECK(VecDuplicate(u, v.out()));
  BILEARN_CHECK(VecDuplicate(u, w.out()));
  BILEARN_CHECK(VecSetRandom(u, random));
  BILEARN_CHECK(VecSetRandom(v, random));
  r.triad_bytes = 3.0 * sizeof(PetscScalar) * static_cast<double>(length);
  r.triad = fastest(comm, o, [&] { BILEARN_CHECK(VecWAXPY(w, 3.0, u, v)); });
  return r;
}

void print_table(MPI_Comm comm, const std::vector<Row>& rows) {
  BILEARN_CHECK(PetscPrintf(comm, "%5s %8s %10s %6s %7s %11s | %8s %5s | %8s %5s | %6s %8s %5s %11s | %6s\n", "N",
                            "rows", "nnz", "asm_s", "A_MB", "ghost%", "mult_ms", "triad", "multT_ms", "triad", "form_s",
                            "AtMult_ms", "triad", "At_ghost%", "triad"));
  for (const Row& r : rows) {
    const double t = r.triad_bw();
    BILEARN_CHECK(PetscPrintf(comm,
                              "%5d %8d %10.0f %6.2f %7.1f %5.1f-%5.1f | %8.3f %4.0f%% | %8.3f %4.0f%% | %6.2f %8.3f "
                              "%4.0f%% %5.1f-%5.1f | %6.2f\n",
                              (int)r.n, (int)r.rows, r.nnz, r.assembly, r.bytes / 1e6, 100 * r.ghost_min,
                              100 * r.ghost_max, 1e3 * r.mult, 100 * r.mult_bw() / t, 1e3 * r.mult_t,
                              100 * r.mult_t_bw() / t, r.transpose_form, 1e3 * r.mult_t_stored,
                              100 * r.mult_t_stored_bw() / t, 100 * r.ghost_t_min, 100 * r.ghost_t_max, t));
  }
  BILEARN_CHECK(PetscPrintf(comm, "block products, b = %d vectors (speedup = b single products / one block product)\n",
                            rows.empty() ? 0 : (int)rows.front().block));
  BILEARN_CHECK(PetscPrintf(comm, "%5s | %9s %9s %5s %7s | %9s %5s %7s | %9s %9s %5s %7s\n", "N", "b*mult_ms",
                            "matmat_ms", "triad", "speedup", "maij_ms", "triad", "speedup", "b*AtMult", "At_maij",
                            "triad", "speedup"));
  for (const Row& r : rows) {
    const double t = r.triad_bw(), b = static_cast<double>(r.block);
    BILEARN_CHECK(PetscPrintf(
        comm, "%5d | %9.3f %9.3f %4.0f%% %6.2fx | %9.3f %4.0f%% %6.2fx | %9.3f %9.3f %4.0f%% %6.2fx\n", (int)r.n,
        1e3 * b * r.mult, 1e3 * r.block_matmat, 100 * r.block_matmat_bw() / t, b * r.mult / r.block_matmat,
        1e3 * r.block_maij, 100 * r.block_maij_bw() / t, b * r.mult / r.block_maij, 1e3 * b * r.mult_t_stored,
        1e3 * r.block_t_maij, 100 * r.block_t_maij_bw() / t, b * r.mult_t_stored / r.block_t_maij));
  }
  BILEARN_CHECK(PetscPrintf(
      comm,
      "(triad columns: bandwidth as a fraction of the STREAM-style triad w = a*u + v (24 bytes per entry, on "
      "vectors as large as A; last column of the first table, GB/s); bandwidth = bytes of the matrix read / time, "
      "a block product counted as b reads; ghost%% = share of a rank's nonzeros in the off-diagonal block, min-max "
      "over ranks; multT = implicit MatMultTranspose (AIJ kernel), AtMult = MatMultTranspose with A^T stored "
      "(-problem_store_transpose), form_s = time to form it; matmat = MatMatMult with a dense block, maij = "
      "MatMult of MatCreateMAIJ on interlaced vectors; fastest of -bench_repeats runs)\n"));
  if (std::none_of(rows.begin(), rows.end(), [](const Row& r) { return r.fold_parts > 0; })) return;
  BILEARN_CHECK(PetscPrintf(comm, "folded operator (-tomo_fold, the default; speedup = whole A / folded)\n"));
  BILEARN_CHECK(PetscPrintf(comm, "%5s | %5s %9s %9s | %8s %7s %6s | %8s %7s %6s | %9s %7s | %9s %7s\n", "N",
                            "parts", "stored_MB", "whole_MB", "mult_ms", "speedup", "triad", "multT_ms", "speedup",
                            "triad", "block_ms", "speedup", "blockT_ms", "speedup"));
  for (const Row& r : rows) {
    if (r.fold_parts == 0) continue;
    const double t = r.triad_bw();
    BILEARN_CHECK(PetscPrintf(
        comm, "%5d | %5d %9.1f %9.1f | %8.3f %6.2fx %5.0f%% | %8.3f %6.2fx %5.0f%% | %9.3f %6.2fx | %9.3f %6.2fx\n",
        (int)r.n, (int)r.fold_parts, r.fold_bytes / 1e6, (r.bytes + r.transpose_bytes) / 1e6, 1e3 * r.fold_mult,
        r.mult / r.fold_mult, 100 * r.fold_mult_bw() / t, 1e3 * r.fold_mult_t, r.mult_t_stored / r.fold_mult_t,
        100 * r.fold_mult_t_bw() / t, 1e3 * r.fold_block, r.block_maij / r.fold_block, 1e3 * r.fold_block_t,
        r.block_t_maij / r.fold_block_t));
  }
  BILEARN_CHECK(PetscPrintf(comm,
                            "(stored_MB: the parts and their transposes, all ranks; whole_MB: A and A^T; triad: the "
                            "whole A's bytes per product time as a fraction of the triad, i.e. the bandwidth an "
                            "unfolded A would need for the same time; multT with the transposes stored on both sides; "
                            "block: b interlaced columns, against MAIJ of the whole A and of the stored A^T)\n"));
}

}  // namespace

int bench_operator(const CommandLine& cl) {
  const double start = MPI_Wtime();
  const MPI_Comm comm = PETSC_COMM_WORLD;
  ProblemOptions problem = read_problem_options(comm);
  const BenchOptions options = read_bench_options(comm);
  if (help_requested()) return 0;  // the options are printed; nothing is measured
  int ranks = 1;
  BILEARN_CHECK(MPI_Comm_size(comm, &ranks));

  std::vector<Row> rows;
  for (PetscInt n : options.sizes) {
    problem.n = n;
    rows.push_back(measure(comm, problem, options));
  }
  BILEARN_CHECK(PetscPrintf(comm, "bench operator: -problem %s, %d rank%s\n", problem.type.c_str(), ranks,
                            ranks == 1 ? "" : "s"));
  print_table(comm, rows);

  if (!cl.json.empty()) {
    nlohmann::json j = base_summary(comm, "bench operator", start);
    j["problem"] = problem.type;
    j["min_seconds"] = options.min_seconds;
    j["repeats"] = options.repeats;
    j["block"] = options.block;
    nlohmann::json sizes = nlohmann::json::array();
    for (const Row& r : rows) {
      const double t = r.triad_bw(), b = static_cast<double>(r.block);
      sizes.push_back({{"N", r.n},
                       {"rows", r.rows},
                       {"cols", r.cols},
                       {"nnz", r.nnz},
                       {"assembly_seconds", r.assembly},
                       {"matrix_bytes", r.bytes},
                       {"ghost_share_min", r.ghost_min},
                       {"ghost_share_max", r.ghost_max},
                       {"mult_seconds", r.mult},
                       {"mult_transpose_seconds", r.mult_t},
                       {"triad_seconds", r.triad},
                       {"triad_bytes", r.triad_bytes},
                       {"mult_gbps", r.mult_bw()},
                       {"mult_transpose_gbps", r.mult_t_bw()},
                       {"triad_gbps", t},
                       {"mult_fraction_of_triad", r.mult_bw() / t},
                       {"mult_transpose_fraction_of_triad", r.mult_t_bw() / t},
                       {"transpose_bytes", r.transpose_bytes},
                       {"transpose_ghost_share_min", r.ghost_t_min},
                       {"transpose_ghost_share_max", r.ghost_t_max},
                       {"transpose_form_seconds", r.transpose_form},
                       {"mult_transpose_stored_seconds", r.mult_t_stored},
                       {"mult_transpose_stored_gbps", r.mult_t_stored_bw()},
                       {"mult_transpose_stored_fraction_of_triad", r.mult_t_stored_bw() / t},
                       {"block_matmat_seconds", r.block_matmat},
                       {"block_matmat_fraction_of_triad", r.block_matmat_bw() / t},
                       {"block_matmat_speedup", b * r.mult / r.block_matmat},
                       {"block_maij_seconds", r.block_maij},
                       {"block_maij_fraction_of_triad", r.block_maij_bw() / t},
                       {"block_maij_speedup", b * r.mult / r.block_maij},
                       {"block_transpose_maij_seconds", r.block_t_maij},
                       {"block_transpose_maij_fraction_of_triad", r.block_t_maij_bw() / t},
                       {"block_transpose_maij_speedup", b * r.mult_t_stored / r.block_t_maij},
                       {"fold_parts", r.fold_parts},
                       {"fold_stored_bytes", r.fold_bytes},
                       {"fold_mult_seconds", r.fold_mult},
                       {"fold_mult_equivalent_fraction_of_triad", r.fold_mult_bw() / t},
                       {"fold_mult_transpose_equivalent_fraction_of_triad", r.fold_mult_t_bw() / t},
                       {"fold_mult_transpose_seconds", r.fold_mult_t},
                       {"fold_block_seconds", r.fold_block},
                       {"fold_block_transpose_seconds", r.fold_block_t}});
    }
    j["sizes"] = sizes;
    write_json(comm, cl.json, j);
  }
  return 0;
}

}  // namespace bilearn
