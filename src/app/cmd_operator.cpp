// `bilearn operator [--write F] [--json F]`: builds the forward operator A of -problem on
// the -problem_n grid and prints on rank 0 its size, nnz, ‖A‖_F, an estimate of ‖A‖₂ and
// the assembly time. --write F writes A in PETSc binary with natural rows and columns (the
// same bytes for any rank count); --json F writes the numbers plus the common fields.
//
// ‖A‖₂ = σ_max(A) from a SLEPc SVD (options prefix -operator_norm_, e.g.
// -operator_norm_svd_type; tolerance -operator_norm_tol) with an implicit transpose (Aᵀ
// products through MatMultTranspose: the stored Aᵀ when -problem_store_transpose chose it,
// never a copy formed for the SVD alone); if the SVD fails or does not converge, from power
// iteration on AᵀA: σ² ≈ ‖A x_k‖² with x_{k+1} = AᵀA x_k / ‖AᵀA x_k‖. Also printed: whether
// Aᵀ is stored, the MiB of A and Aᵀ on the fullest rank, and the peak RSS per rank.
#include <slepcsvd.h>

#include <cmath>
#include <fstream>
#include <string>

#include "bilearn/app/commands.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/driver/report.hpp"
#include "bilearn/io/binary_viewer.hpp"
#include "bilearn/io/json_summary.hpp"
#include "bilearn/problem/explicit_transpose.hpp"
#include "bilearn/problem/natural_order.hpp"

namespace bilearn {
namespace {

using OwnedSVD = Handle<SVD, SVDDestroy>;

struct NormOptions {
  PetscReal tol = 1e-6;
  PetscInt max_it = 1000;
};

NormOptions read_norm_options(MPI_Comm comm) {
  NormOptions o;
  OptionsBlock block(comm, "", "Operator norm estimate (bilearn operator)");
  o.tol = block.real("-operator_norm_tol", "relative tolerance of the largest singular value", o.tol, 1e-15, 0.5);
  o.max_it = block.integer("-operator_norm_max_it", "iteration limit of the SVD / power iteration", o.max_it, 1);
  return o;
}

struct NormEstimate {
  PetscReal value = 0;
  std::string method;
};

// Largest singular value by SLEPc; false if the solver failed or did not converge.
bool svd_norm(Mat A, const NormOptions& o, PetscReal& sigma) {
  try {
    OwnedSVD svd;
    BILEARN_CHECK(SVDCreate(PetscObjectComm((PetscObject)A), svd.out()));
    BILEARN_CHECK(SVDSetOptionsPrefix(svd, "operator_norm_"));
    BILEARN_CHECK(SVDSetOperators(svd, A, nullptr));
    BILEARN_CHECK(SVDSetImplicitTranspose(svd, PETSC_TRUE));
    BILEARN_CHECK(SVDSetWhichSingularTriplets(svd, SVD_LARGEST));
    BILEARN_CHECK(SVDSetDimensions(svd, 1, PETSC_DEFAULT, PETSC_DEFAULT));
    BILEARN_CHECK(SVDSetTolerances(svd, o.tol, o.max_it));
    BILEARN_CHECK(SVDSetFromOptions(svd));
    BILEARN_CHECK(SVDSolve(svd));
    PetscInt converged = 0;
    BILEARN_CHECK(SVDGetConverged(svd, &converged));
    if (converged < 1) return false;
    BILEARN_CHECK(SVDGetSingularTriplet(svd, 0, &sigma, nullptr, nullptr));
    return std::isfinite(sigma);
  } catch (const PetscFailure&) {
    return false;  // SLEPc failures are collective: every rank takes the fallback
  }
}

// Power iteration on AᵀA from a constant start vector (deterministic).
PetscReal power_norm(Mat A, const NormOptions& o) {
  OwnedVec x, y;
  BILEARN_CHECK(MatCreateVecs(A, x.out(), y.out()));
  BILEARN_CHECK(VecSet(x, 1.0));
  PetscReal xnorm = 0, sigma = 0;
  BILEARN_CHECK(VecNormalize(x, &xnorm));
  for (PetscInt k = 0; k < o.max_it; ++k) {
    BILEARN_CHECK(MatMult(A, x, y));
    PetscReal ynorm = 0;
    BILEARN_CHECK(VecNorm(y, NORM_2, &ynorm));  // σ estimate: ‖A x‖ with ‖x‖ = 1
    BILEARN_CHECK(MatMultTranspose(A, y, x));
    BILEARN_CHECK(VecNormalize(x, &xnorm));
    const PetscReal previous = sigma;
    sigma = ynorm;
    if (xnorm == 0 || std::abs(sigma - previous) <= o.tol * sigma) break;
  }
  return sigma;
}

NormEstimate two_norm(Mat A, const NormOptions& o) {
  PetscReal sigma = 0;
  if (svd_norm(A, o, sigma)) return {sigma, "svd"};
  return {power_norm(A, o), "power"};
}

// Rank 0 tries to create path; every rank gets the verdict. Collective.
void require_writable(MPI_Comm comm, const std::string& path) {
  PetscMPIInt rank = 0;
  BILEARN_CHECK(MPI_Comm_rank(comm, &rank));
  int ok = 1;
  if (rank == 0) ok = std::ofstream(path, std::ios::binary) ? 1 : 0;
  BILEARN_CHECK(MPI_Bcast(&ok, 1, MPI_INT, 0, comm));
  require(ok == 1, "cannot write operator file '" + path + "'");
}

void write_natural(const ForwardModel& model, const ImageGrid& grid, const std::string& path) {
  const MPI_Comm comm = grid.comm();
  require_writable(comm, path);
  const OwnedMat natural = natural_ordered_matrix(model, grid);
  OwnedViewer viewer = open_binary_viewer(comm, path, FILE_MODE_WRITE);
  BILEARN_CHECK(MatView(natural, viewer));
}

}  // namespace

int cmd_operator(const CommandLine& cl) {
  const double start = MPI_Wtime();
  const MPI_Comm comm = PETSC_COMM_WORLD;
  require(cl.subcommand.empty(), "operator takes no further word, got '" + cl.subcommand + "'");
  const ProblemOptions problem = read_problem_options(comm);
  // --write stores every row: a tomography operator is assembled whole, not folded (-tomo_fold,
  // read when the operator is built; only tomography reads it).
  if (!cl.write.empty() && problem.type == "tomo")
    BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-tomo_fold", "false"));
  const NormOptions norm_options = read_norm_options(comm);
  const ImageGrid grid(comm, problem.n);

  BILEARN_CHECK(MPI_Barrier(comm));
  const double assembly_start = MPI_Wtime();
  const ForwardModel model = create_forward_model(grid, problem);
  if (help_requested()) return 0;  // the options are printed; no norms, nothing written
  const double assembly_seconds = max_over_ranks(comm, MPI_Wtime() - assembly_start);

  PetscInt rows = 0, cols = 0;
  BILEARN_CHECK(MatGetSize(model.A, &rows, &cols));
  MatInfo info;
  BILEARN_CHECK(MatGetInfo(model.A, MAT_GLOBAL_SUM, &info));
  const long long nnz = static_cast<long long>(info.nz_used);
  PetscReal frobenius = 0;
  BILEARN_CHECK(MatNorm(model.A, NORM_FROBENIUS, &frobenius));
  const NormEstimate norm2 = two_norm(model.A, norm_options);
  if (!cl.write.empty()) write_natural(model, grid, cl.write);

  int ranks = 1;
  BILEARN_CHECK(MPI_Comm_size(comm, &ranks));
  BILEARN_CHECK(PetscPrintf(comm, "operator: %s, N = %" PetscInt_FMT ", %d rank%s\n", model.name.c_str(), grid.n(),
                            ranks, ranks == 1 ? "" : "s"));
  BILEARN_CHECK(PetscPrintf(comm, "  rows              %" PetscInt_FMT "\n", rows));
  BILEARN_CHECK(PetscPrintf(comm, "  cols              %" PetscInt_FMT "\n", cols));
  BILEARN_CHECK(PetscPrintf(comm, "  nnz               %lld\n", nnz));
  BILEARN_CHECK(PetscPrintf(comm, "  norm_frobenius    %.12e\n", (double)frobenius));
  BILEARN_CHECK(PetscPrintf(comm, "  norm_2            %.12e  (%s, tol %g)\n", (double)norm2.value,
                            norm2.method.c_str(), (double)norm_options.tol));
  BILEARN_CHECK(PetscPrintf(comm, "  assembly_seconds  %.3f\n", assembly_seconds));
  const OperatorStorage storage = operator_storage(model.A, comm);
  BILEARN_CHECK(PetscPrintf(comm, "  transpose_stored  %s\n", storage.transpose_stored ? "yes" : "no"));
  BILEARN_CHECK(PetscPrintf(comm, "  matrix_mb         %.1f  (max rank)\n", storage.matrix_mb_max_rank));
  BILEARN_CHECK(PetscPrintf(comm, "  transpose_mb      %.1f  (max rank)\n", storage.transpose_mb_max_rank));
  BILEARN_CHECK(PetscPrintf(comm, "  peak_rss_mb       %.1f  (max rank)\n", max_over_ranks(comm, peak_rss_mb())));
  if (!cl.write.empty()) BILEARN_CHECK(PetscPrintf(comm, "  written           %s\n", cl.write.c_str()));

  if (!cl.json.empty()) {
    nlohmann::json j = base_summary(comm, "operator", start);
    j["problem"] = model.name;
    j["N"] = grid.n();
    j["rows"] = rows;
    j["cols"] = cols;
    j["nnz"] = nnz;
    j["norm_frobenius"] = frobenius;
    j["norm_2"] = norm2.value;
    j["norm_2_method"] = norm2.method;
    j["norm_2_tol"] = norm_options.tol;
    j["assembly_seconds"] = assembly_seconds;
    j["data_on_grid"] = model.data_on_grid;
    add_operator_fields(j, storage);
    j["data_rows"] = model.data_rows;
    j["data_cols"] = model.data_cols;
    if (!cl.write.empty()) j["written"] = cl.write;
    write_json(comm, cl.json, j);
  }
  return 0;
}

}  // namespace bilearn
