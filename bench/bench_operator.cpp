// `bilearn bench operator [--json F]`: for every N in -bench_sizes (default 256,512) builds
// A of -problem and measures, in the same run:
//   assembly time (slowest rank), bytes of A (values + column indices + row pointers of the
//   diagonal and off-diagonal blocks, all ranks), MatMult and MatMultTranspose (each
//   repeated for at least -bench_min_seconds), and a STREAM-triad-style kernel
//   w = αx + y (VecWAXPY) on vectors of about the same bytes as A (24 bytes per entry, as
//   STREAM counts them). Bandwidths: bytes of A / time; each as a fraction of the triad's.
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "bench.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/io/json_summary.hpp"
#include "bilearn/problem/explicit_transpose.hpp"
#include "bilearn/problem/forward_model.hpp"

namespace bilearn {
namespace {

struct BenchOptions {
  std::vector<PetscInt> sizes;
  PetscReal min_seconds = 0.2;
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
  return o;
}

// Bytes of an AIJ matrix as MatMult streams them, summed over ranks. Collective.
double matrix_bytes(Mat A) {
  PetscBool mpi = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)A, MATMPIAIJ, &mpi));
  std::vector<Mat> blocks;
  if (mpi) {
    Mat diag = nullptr, off = nullptr;
    BILEARN_CHECK(MatMPIAIJGetSeqAIJ(A, &diag, &off, nullptr));
    blocks = {diag, off};
  } else {
    blocks = {A};
  }
  double bytes = 0;
  for (Mat block : blocks) {
    MatInfo info;
    BILEARN_CHECK(MatGetInfo(block, MAT_LOCAL, &info));
    PetscInt m = 0;
    BILEARN_CHECK(MatGetLocalSize(block, &m, nullptr));
    if (info.nz_used == 0 && block != blocks.front()) continue;  // an empty off-diagonal block is skipped
    bytes += info.nz_used * (sizeof(PetscScalar) + sizeof(PetscInt)) + static_cast<double>(m + 1) * sizeof(PetscInt);
  }
  return sum_over_ranks(PetscObjectComm((PetscObject)A), bytes);
}

struct Row {
  PetscInt n = 0, rows = 0, cols = 0;
  double nnz = 0, assembly = 0, bytes = 0;
  double mult = 0, mult_t = 0, triad = 0;                             // seconds per call
  double transpose_bytes = 0, transpose_form = 0, mult_t_stored = 0;  // with Aᵀ stored explicitly
  double triad_bytes = 0;
  double bw(double b, double t) const { return t > 0 ? b / t / 1e9 : 0; }
  double mult_bw() const { return bw(bytes, mult); }
  double mult_t_bw() const { return bw(bytes, mult_t); }
  double mult_t_stored_bw() const { return bw(transpose_bytes, mult_t_stored); }
  double triad_bw() const { return bw(triad_bytes, triad); }
};

Row measure(MPI_Comm comm, const ProblemOptions& problem, const BenchOptions& o) {
  Row r;
  r.n = problem.n;
  const ImageGrid grid(comm, problem.n);
  BILEARN_CHECK(MPI_Barrier(comm));
  const double start = MPI_Wtime();
  const ForwardModel model = create_forward_model(grid, problem);
  r.assembly = max_over_ranks(comm, MPI_Wtime() - start);
  Mat A = model.A;
  BILEARN_CHECK(MatGetSize(A, &r.rows, &r.cols));
  MatInfo info;
  BILEARN_CHECK(MatGetInfo(A, MAT_GLOBAL_SUM, &info));
  r.nnz = info.nz_used;
  r.bytes = matrix_bytes(A);

  OwnedVec x, y;
  BILEARN_CHECK(MatCreateVecs(A, x.out(), y.out()));
  OwnedRandom random;
  BILEARN_CHECK(PetscRandomCreate(comm, random.out()));
  BILEARN_CHECK(VecSetRandom(x, random));
  BILEARN_CHECK(VecSetRandom(y, random));
  r.mult = time_repeated(comm, o.min_seconds, [&] { BILEARN_CHECK(MatMult(A, x, y)); }).seconds_per_call;
  r.mult_t = time_repeated(comm, o.min_seconds, [&] { BILEARN_CHECK(MatMultTranspose(A, y, x)); }).seconds_per_call;

  // The same product with Aᵀ stored (-problem_store_transpose): MatMultTranspose(A) = MatMult(Aᵀ).
  BILEARN_CHECK(MPI_Barrier(comm));
  const double form_start = MPI_Wtime();
  store_explicit_transpose(A);
  r.transpose_form = max_over_ranks(comm, MPI_Wtime() - form_start);
  r.transpose_bytes = matrix_bytes(explicit_transpose(A));
  r.mult_t_stored =
      time_repeated(comm, o.min_seconds, [&] { BILEARN_CHECK(MatMultTranspose(A, y, x)); }).seconds_per_call;

  // Triad on vectors with as many bytes as A: w = αu + v moves 3 × 8 bytes per entry.
  const PetscInt length = std::max<PetscInt>(static_cast<PetscInt>(r.bytes / (3 * sizeof(PetscScalar))), 1);
  OwnedVec u, v, w;
  BILEARN_CHECK(VecCreateMPI(comm, PETSC_DECIDE, length, u.out()));
  BILEARN_CHECK(VecDuplicate(u, v.out()));
  BILEARN_CHECK(VecDuplicate(u, w.out()));
  BILEARN_CHECK(VecSetRandom(u, random));
  BILEARN_CHECK(VecSetRandom(v, random));
  r.triad_bytes = 3.0 * sizeof(PetscScalar) * static_cast<double>(length);
  r.triad = time_repeated(comm, o.min_seconds, [&] { BILEARN_CHECK(VecWAXPY(w, 3.0, u, v)); }).seconds_per_call;
  return r;
}

}  // namespace

int bench_operator(const CommandLine& cl) {
  const double start = MPI_Wtime();
  const MPI_Comm comm = PETSC_COMM_WORLD;
  ProblemOptions problem = read_problem_options(comm);
  const BenchOptions options = read_bench_options(comm);
  int ranks = 1;
  BILEARN_CHECK(MPI_Comm_size(comm, &ranks));

  std::vector<Row> rows;
  for (PetscInt n : options.sizes) {
    problem.n = n;
    rows.push_back(measure(comm, problem, options));
  }
  BILEARN_CHECK(PetscPrintf(comm, "bench operator: -problem %s, %d rank%s\n", problem.type.c_str(), ranks,
                            ranks == 1 ? "" : "s"));
  BILEARN_CHECK(PetscPrintf(comm, "%5s %8s %10s %6s %7s | %8s %6s %5s | %8s %6s %5s | %6s %8s %6s %5s | %6s\n", "N",
                            "rows", "nnz", "asm_s", "A_MB", "mult_ms", "GB/s", "triad", "multT_ms", "GB/s", "triad",
                            "form_s", "AtMult_ms", "GB/s", "triad", "triad"));
  for (const Row& r : rows) {
    const double triad = r.triad_bw();
    BILEARN_CHECK(PetscPrintf(
        comm,
        "%5d %8d %10.0f %6.2f %7.1f | %8.3f %6.2f %4.0f%% | %8.3f %6.2f %4.0f%% | %6.2f %8.3f %6.2f %4.0f%% | %6.2f\n",
        (int)r.n, (int)r.rows, r.nnz, r.assembly, r.bytes / 1e6, 1e3 * r.mult, r.mult_bw(), 100 * r.mult_bw() / triad,
        1e3 * r.mult_t, r.mult_t_bw(), 100 * r.mult_t_bw() / triad, r.transpose_form, 1e3 * r.mult_t_stored,
        r.mult_t_stored_bw(), 100 * r.mult_t_stored_bw() / triad, triad));
  }
  BILEARN_CHECK(
      PetscPrintf(comm,
                  "(GB/s = bytes of A (values, column indices, row pointers) / time; triad = STREAM-style "
                  "w = a*u + v, 24 bytes per entry, on vectors as large as A; AtMult = MatMultTranspose with "
                  "A^T stored, -problem_store_transpose, form_s = MatTranspose time, memory = A_MB again)\n"));

  if (!cl.json.empty()) {
    nlohmann::json j = base_summary(comm, "bench operator", start);
    j["problem"] = problem.type;
    j["min_seconds"] = options.min_seconds;
    nlohmann::json sizes = nlohmann::json::array();
    for (const Row& r : rows)
      sizes.push_back({{"N", r.n},
                       {"rows", r.rows},
                       {"cols", r.cols},
                       {"nnz", r.nnz},
                       {"assembly_seconds", r.assembly},
                       {"matrix_bytes", r.bytes},
                       {"mult_seconds", r.mult},
                       {"mult_transpose_seconds", r.mult_t},
                       {"triad_seconds", r.triad},
                       {"triad_bytes", r.triad_bytes},
                       {"mult_gbps", r.mult_bw()},
                       {"mult_transpose_gbps", r.mult_t_bw()},
                       {"triad_gbps", r.triad_bw()},
                       {"mult_fraction_of_triad", r.mult_bw() / r.triad_bw()},
                       {"mult_transpose_fraction_of_triad", r.mult_t_bw() / r.triad_bw()},
                       {"transpose_bytes", r.transpose_bytes},
                       {"transpose_form_seconds", r.transpose_form},
                       {"mult_transpose_stored_seconds", r.mult_t_stored},
                       {"mult_transpose_stored_gbps", r.mult_t_stored_bw()},
                       {"mult_transpose_stored_fraction_of_triad", r.mult_t_stored_bw() / r.triad_bw()}});
    j["sizes"] = sizes;
    write_json(comm, cl.json, j);
  }
  return 0;
}

}  // namespace bilearn
