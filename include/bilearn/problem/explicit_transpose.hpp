// Stored Aᵀ for assembled operators, so that MatMultTranspose runs as fast as MatMult (the
// AIJ transpose kernel scatters into the output: for tomography it runs at a fraction of
// the memory bandwidth of MatMult). store_explicit_transpose(A) forms Aᵀ once and routes
// MatMultTranspose / MatMultTransposeAdd of A through MatMult / MatMultAdd of Aᵀ, so every
// caller of MatMultTranspose(A, ...) gets the fast path; A stays an AIJ matrix for
// everything else. Costs the memory of a second copy of A (per rank: the nonzeros in the
// columns it owns), so it is chosen by -problem_store_transpose auto|true|false with a
// per-rank limit -problem_transpose_max_mb (auto: stored when it fits on every rank).
#pragma once
#include <petscmat.h>

#include <limits>

namespace bilearn {

enum class TransposeChoice { automatic, stored, implicit };

struct TransposeOptions {
  TransposeChoice choice = TransposeChoice::automatic;
  PetscReal max_mb = 2048;  // per rank, MiB; limit for `automatic`
};

// Reads -problem_store_transpose auto|true|false and -problem_transpose_max_mb. Collective.
TransposeOptions read_transpose_options(MPI_Comm comm);

// Stores Aᵀ when the options ask for it (stored), or allow it (automatic) and Aᵀ needs at
// most max_mb MiB on every rank. Returns whether Aᵀ is stored. Collective.
bool apply_transpose_options(Mat A, const TransposeOptions& options);

// Forms and attaches Aᵀ if it needs at most max_mb MiB on every rank (nothing is formed
// otherwise); idempotent. Returns whether Aᵀ is attached. round_entries > 0 bounds the
// entries one rank sends per exchange round (default: 2^22 / ranks, at least 2^16; small
// values exercise the rounds in tests). Collective.
bool store_explicit_transpose(Mat A, double max_mb = std::numeric_limits<double>::infinity(),
                              PetscInt round_entries = 0);

// The attached Aᵀ, or nullptr (borrowed reference). Not collective.
Mat explicit_transpose(Mat A);

// x = Aᵀ y by the matrix type's own transpose kernel, whether or not Aᵀ is stored (for
// benchmarks and tests comparing the two). Collective.
void mult_transpose_implicit(Mat A, Vec y, Vec x);

// Bytes of this rank's part of an AIJ matrix as stored (values, column indices, row
// pointers of the diagonal and off-diagonal blocks); 0 for other types. Not collective.
double local_matrix_bytes(Mat A);
// local_matrix_bytes of A plus its stored transpose (a folded operator: its parts and theirs).
double local_stored_bytes(Mat A);

// What the operator costs in memory, for summaries: whether Aᵀ is stored and the MiB of A
// and of Aᵀ (0 when not stored) on the rank holding the most. Collective on comm (every
// rank of comm calls it; A may live on a sub-communicator of comm).
struct OperatorStorage {
  bool transpose_stored = false;
  double matrix_mb_max_rank = 0;
  double transpose_mb_max_rank = 0;
};
OperatorStorage operator_storage(Mat A, MPI_Comm comm);

}  // namespace bilearn
