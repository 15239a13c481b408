#include "bilearn/problem/explicit_transpose.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/problem/folded_operator.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/problem/split_csr.hpp"

namespace bilearn {
namespace {

constexpr const char* key = "bilearn_explicit_transpose";
constexpr const char* ops_key = "bilearn_implicit_transpose_ops";
constexpr double mib = 1024.0 * 1024.0;

// The type's own MatMultTranspose kernels, saved before store_explicit_transpose replaces them.
struct TransposeOps {
  PetscErrorCode (*mult_transpose)(Mat, Vec, Vec) = nullptr;
};

Mat attached(Mat A) {
  PetscObject At = nullptr;
  BILEARN_CHECK(PetscObjectQuery((PetscObject)A, key, &At));
  if (!At) throw std::logic_error("explicit transpose missing");
  return (Mat)At;
}

PetscErrorCode mult_transpose(Mat A, Vec y, Vec x) {  // x = Aᵀ y
  return guarded(PetscObjectComm((PetscObject)A), __func__, [&] { BILEARN_CHECK(MatMult(attached(A), y, x)); });
}

PetscErrorCode mult_transpose_add(Mat A, Vec y, Vec z, Vec x) {  // x = Aᵀ y + z
  return guarded(PetscObjectComm((PetscObject)A), __func__, [&] { BILEARN_CHECK(MatMultAdd(attached(A), y, z, x)); });
}

// Read access to the CSR arrays of a SeqAIJ block for the lifetime of the object.
class SeqAijView {
 public:
  explicit SeqAijView(Mat block) : block_(block) {
    PetscBool done = PETSC_FALSE;
    BILEARN_CHECK(MatGetRowIJ(block_, 0, PETSC_FALSE, PETSC_FALSE, &rows, &ia, &ja, &done));
    BILEARN_CHECK(MatSeqAIJGetArrayRead(block_, &va));
  }
  ~SeqAijView() {
    PetscBool done = PETSC_FALSE;
    MatSeqAIJRestoreArrayRead(block_, &va);
    MatRestoreRowIJ(block_, 0, PETSC_FALSE, PETSC_FALSE, &rows, &ia, &ja, &done);
  }
  SeqAijView(const SeqAijView&) = delete;
  SeqAijView& operator=(const SeqAijView&) = delete;
  PetscInt nnz() const { return ia[rows]; }

  PetscInt rows = 0;
  const PetscInt *ia = nullptr, *ja = nullptr;
  const PetscScalar* va = nullptr;

 private:
  Mat block_;
};

// Default entries per round of the value exchange, summed over destinations, for one
// sender: the transient buffers (send + receive, 16 bytes an entry) stay near 2 × 64 MiB
// whatever the size of A.
PetscInt default_round_entries(int size) {
  return std::max<PetscInt>((PetscInt(1) << 22) / size, PetscInt(1) << 16);
}

// Aᵀ of an MPIAIJ matrix, built directly in its final split-CSR arrays (split_csr.hpp):
//  - diagonal block of Aᵀ = (diagonal block of A)ᵀ: a local counting sort by column;
//  - off-diagonal block of Aᵀ on rank p = entries of the other ranks' off-diagonal blocks
//    in p's columns. A first exchange sends (column, count) pairs only (≤ one per ghost
//    column), so every rank sizes its rows exactly and knows the bytes of Aᵀ before any
//    value moves; if they exceed max_bytes on some rank nothing more is done. Then the
//    (column, row, value) triplets move in rounds of whole rows of A of at most
//    round_budget entries per sender, each written straight into its slot.
// Transient memory: O(ghost columns) + the round buffers; no copy of A or Aᵀ. Returns an
// empty handle when Aᵀ does not fit. Collective.
OwnedMat transpose_mpiaij(Mat A, double max_bytes, PetscInt round_entries) {
  const MPI_Comm comm = PetscObjectComm((PetscObject)A);
  PetscMPIInt size = 1, rank = 0;
  BILEARN_CHECK(MPI_Comm_size(comm, &size));
  BILEARN_CHECK(MPI_Comm_rank(comm, &rank));
  Mat diag = nullptr, off = nullptr;
  const PetscInt* garray = nullptr;
  BILEARN_CHECK(MatMPIAIJGetSeqAIJ(A, &diag, &off, &garray));
  PetscInt row_begin = 0, row_end = 0, col_begin = 0, col_end = 0, m = 0, n = 0, M = 0, N = 0, ghosts = 0;
  BILEARN_CHECK(MatGetOwnershipRange(A, &row_begin, &row_end));
  BILEARN_CHECK(MatGetOwnershipRangeColumn(A, &col_begin, &col_end));
  BILEARN_CHECK(MatGetLocalSize(A, &m, &n));
  BILEARN_CHECK(MatGetSize(A, &M, &N));
  BILEARN_CHECK(MatGetLocalSize(off, nullptr, &ghosts));
  const PetscInt* col_ranges = nullptr;  // size + 1 entries
  BILEARN_CHECK(MatGetOwnershipRangesColumn(A, &col_ranges));
  const SeqAijView d(diag), o(off);
  const auto count_of = [](PetscInt k) { return static_cast<size_t>(k); };

  // Owner and entry count of every ghost column (garray is sorted, owners ascend).
  std::vector<int> owner(count_of(ghosts));
  std::vector<PetscInt> ghost_count(count_of(ghosts), 0);
  for (PetscInt k = 0, p = 0; k < ghosts; ++k) {
    while (garray[k] >= col_ranges[p + 1]) ++p;
    owner[count_of(k)] = static_cast<int>(p);
  }
  for (PetscInt k = 0; k < o.nnz(); ++k) ++ghost_count[count_of(o.ja[k])];

  // Exchange 1: (column, count) pairs to the columns' owners.
  std::vector<int> send_count(count_of(size), 0), recv_count(count_of(size), 0);
  std::vector<int> send_offset(count_of(size) + 1, 0), recv_offset(count_of(size) + 1, 0);
  for (PetscInt k = 0; k < ghosts; ++k)
    if (ghost_count[count_of(k)] > 0) send_count[count_of(owner[count_of(k)])] += 2;
  BILEARN_CHECK(MPI_Alltoall(send_count.data(), 1, MPI_INT, recv_count.data(), 1, MPI_INT, comm));
  for (int p = 0; p < size; ++p) {
    send_offset[p + 1] = send_offset[p] + send_count[p];
    recv_offset[p + 1] = recv_offset[p] + recv_count[p];
  }
  std::vector<PetscInt> pairs_out;
  pairs_out.reserve(count_of(send_offset[size]));
  for (PetscInt k = 0; k < ghosts; ++k)
    if (ghost_count[count_of(k)] > 0) {
      pairs_out.push_back(garray[k]);
      pairs_out.push_back(ghost_count[count_of(k)]);
    }
  std::vector<PetscInt> pairs_in(count_of(recv_offset[size]));
  BILEARN_CHECK(MPI_Alltoallv(pairs_out.data(), send_count.data(), send_offset.data(), MPIU_INT, pairs_in.data(),
                              recv_count.data(), recv_offset.data(), MPIU_INT, comm));

  // Row pointers of both blocks of Aᵀ (n local rows = A's local columns).
  SplitCsr t;
  t.i.assign(count_of(n) + 1, 0);
  t.oi.assign(count_of(n) + 1, 0);
  for (PetscInt k = 0; k < d.nnz(); ++k) ++t.i[count_of(d.ja[k]) + 1];
  for (size_t k = 0; k < pairs_in.size(); k += 2) t.oi[count_of(pairs_in[k] - col_begin) + 1] += pairs_in[k + 1];
  for (PetscInt r = 0; r < n; ++r) {
    t.i[count_of(r) + 1] += t.i[count_of(r)];
    t.oi[count_of(r) + 1] += t.oi[count_of(r)];
  }
  const double bytes = split_csr_bytes(n, static_cast<double>(t.i[count_of(n)]) + t.oi[count_of(n)]);
  if (max_over_ranks(comm, bytes) > max_bytes) return OwnedMat();

  // Diagonal block: rows of A in order, so the columns of every row of Aᵀ ascend.
  t.j.resize(count_of(t.i[count_of(n)]));
  t.a.resize(t.j.size());
  {
    std::vector<PetscInt> next(t.i.begin(), t.i.end() - 1);
    for (PetscInt r = 0; r < m; ++r)
      for (PetscInt k = d.ia[r]; k < d.ia[r + 1]; ++k) {
        const size_t at = count_of(next[count_of(d.ja[k])]++);
        t.j[at] = r;
        t.a[at] = d.va[k];
      }
  }

  // Off-diagonal block: rounds of whole rows of A.
  t.oj.resize(count_of(t.oi[count_of(n)]));
  t.oa.resize(t.oj.size());
  std::vector<PetscInt> next(t.oi.begin(), t.oi.end() - 1);
  const PetscInt budget = round_entries > 0 ? round_entries : default_round_entries(size);
  std::vector<PetscInt> slice_end;  // rows [slice_end[s−1], slice_end[s]) of A go in round s
  for (PetscInt r = 0, entries = 0; r < m; ++r) {
    const PetscInt len = o.ia[r + 1] - o.ia[r];
    if (entries > 0 && entries + len > budget) {
      slice_end.push_back(r);
      entries = 0;
    }
    entries += len;
  }
  slice_end.push_back(m);
  int local_rounds = static_cast<int>(slice_end.size()), rounds = 0;
  BILEARN_CHECK(MPI_Allreduce(&local_rounds, &rounds, 1, MPI_INT, MPI_MAX, comm));
  std::vector<PetscInt> send_c, send_r, recv_c, recv_r;
  std::vector<PetscScalar> send_v, recv_v;
  for (int s = 0; s < rounds; ++s) {
    const PetscInt first = s == 0 ? 0 : (s < local_rounds ? slice_end[count_of(s - 1)] : m);
    const PetscInt last = s < local_rounds ? slice_end[count_of(s)] : m;
    std::fill(send_count.begin(), send_count.end(), 0);
    for (PetscInt k = o.ia[first]; k < o.ia[last]; ++k) ++send_count[count_of(owner[count_of(o.ja[k])])];
    BILEARN_CHECK(MPI_Alltoall(send_count.data(), 1, MPI_INT, recv_count.data(), 1, MPI_INT, comm));
    for (int p = 0; p < size; ++p) {
      send_offset[p + 1] = send_offset[p] + send_count[p];
      recv_offset[p + 1] = recv_offset[p] + recv_count[p];
    }
    send_c.resize(count_of(send_offset[size]));
    send_r.resize(send_c.size());
    send_v.resize(send_c.size());
    std::vector<int> fill(send_offset.begin(), send_offset.end() - 1);
    for (PetscInt r = first; r < last; ++r)
      for (PetscInt k = o.ia[r]; k < o.ia[r + 1]; ++k) {
        const size_t at = count_of(fill[count_of(owner[count_of(o.ja[k])])]++);
        send_c[at] = garray[o.ja[k]];
        send_r[at] = row_begin + r;
        send_v[at] = o.va[k];
      }
    recv_c.resize(count_of(recv_offset[size]));
    recv_r.resize(recv_c.size());
    recv_v.resize(recv_c.size());
    BILEARN_CHECK(MPI_Alltoallv(send_c.data(), send_count.data(), send_offset.data(), MPIU_INT, recv_c.data(),
                                recv_count.data(), recv_offset.data(), MPIU_INT, comm));
    BILEARN_CHECK(MPI_Alltoallv(send_r.data(), send_count.data(), send_offset.data(), MPIU_INT, recv_r.data(),
                                recv_count.data(), recv_offset.data(), MPIU_INT, comm));
    BILEARN_CHECK(MPI_Alltoallv(send_v.data(), send_count.data(), send_offset.data(), MPIU_SCALAR, recv_v.data(),
                                recv_count.data(), recv_offset.data(), MPIU_SCALAR, comm));
    for (size_t k = 0; k < recv_c.size(); ++k) {
      const size_t at = count_of(next[count_of(recv_c[k] - col_begin)]++);
      t.oj[at] = recv_r[k];
      t.oa[at] = recv_v[k];
    }
  }
  // From one sender the rows of A arrive in order; with three or more ranks the rounds
  // interleave senders, so sort the rows that came out of order.
  for (PetscInt r = 0; r < n; ++r) {
    PetscInt* cols = t.oj.data() + t.oi[count_of(r)];
    const PetscInt len = t.oi[count_of(r) + 1] - t.oi[count_of(r)];
    if (!std::is_sorted(cols, cols + len))
      BILEARN_CHECK(PetscSortIntWithScalarArray(len, cols, t.oa.data() + t.oi[count_of(r)]));
  }
  return create_mpiaij_from_split(comm, n, m, N, M, std::move(t));
}

PetscErrorCode destroy_transpose_ops(void* ctx) {
  delete static_cast<TransposeOps*>(ctx);
  return 0;
}

void attach_transpose(Mat A, OwnedMat At) {
  auto ops = new TransposeOps;
  PetscContainer container = nullptr;
  BILEARN_CHECK(MatGetOperation(A, MATOP_MULT_TRANSPOSE, (void (**)(void)) & ops->mult_transpose));
  BILEARN_CHECK(PetscContainerCreate(PetscObjectComm((PetscObject)A), &container));
  BILEARN_CHECK(PetscContainerSetPointer(container, ops));
  BILEARN_CHECK(PetscContainerSetUserDestroy(container, destroy_transpose_ops));
  BILEARN_CHECK(PetscObjectCompose((PetscObject)A, ops_key, (PetscObject)container));
  BILEARN_CHECK(PetscContainerDestroy(&container));
  BILEARN_CHECK(PetscObjectCompose((PetscObject)A, key, (PetscObject)At.get()));  // A holds a reference
  BILEARN_CHECK(MatSetOperation(A, MATOP_MULT_TRANSPOSE, (void (*)(void))mult_transpose));
  BILEARN_CHECK(MatSetOperation(A, MATOP_MULT_TRANSPOSE_ADD, (void (*)(void))mult_transpose_add));
  // Real scalars: SLEPc's implicit transpose (SVDSetImplicitTranspose) applies Aᴴ = Aᵀ.
  BILEARN_CHECK(MatSetOperation(A, MATOP_MULT_HERMITIAN_TRANSPOSE, (void (*)(void))mult_transpose));
  BILEARN_CHECK(MatSetOperation(A, MATOP_MULT_HERMITIAN_TRANS_ADD, (void (*)(void))mult_transpose_add));
}

}  // namespace

TransposeOptions read_transpose_options(MPI_Comm comm) {
  TransposeOptions o;
  OptionsBlock block(comm, "", "Forward operator storage");
  const std::string choice = block.choice("-problem_store_transpose",
                                          "store A^T for a MatMultTranspose as fast as MatMult: auto (when it fits in "
                                          "-problem_transpose_max_mb per rank), true, false",
                                          {"auto", "true", "false"}, "auto");
  o.choice = choice == "true" ? TransposeChoice::stored
                              : (choice == "false" ? TransposeChoice::implicit : TransposeChoice::automatic);
  o.max_mb =
      block.real("-problem_transpose_max_mb", "memory per rank (MiB) A^T may take under auto", o.max_mb, 0.0, 1e12);
  return o;
}

bool apply_transpose_options(Mat A, const TransposeOptions& options) {
  switch (options.choice) {
    case TransposeChoice::stored:
      return store_explicit_transpose(A);
    case TransposeChoice::automatic:
      return store_explicit_transpose(A, options.max_mb);
    case TransposeChoice::implicit:
      break;
  }
  return false;
}

bool store_explicit_transpose(Mat A, double max_mb, PetscInt round_entries) {
  if (explicit_transpose(A)) return true;
  log::ScopedEvent event(log::events().operator_transpose);
  const double max_bytes = max_mb * mib;
  PetscBool mpi = PETSC_FALSE, seq = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)A, MATMPIAIJ, &mpi));
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)A, MATSEQAIJ, &seq));
  OwnedMat At;
  if (mpi) {
    At = transpose_mpiaij(A, max_bytes, round_entries);
  } else {
    if (!seq) return false;  // shells and other types keep their own transpose
    MatInfo info;
    BILEARN_CHECK(MatGetInfo(A, MAT_LOCAL, &info));
    PetscInt cols = 0;
    BILEARN_CHECK(MatGetLocalSize(A, nullptr, &cols));
    if (split_csr_bytes(cols, info.nz_used) > max_bytes) return false;
    BILEARN_CHECK(MatTranspose(A, MAT_INITIAL_MATRIX, At.out()));  // SeqAIJ: PETSc's, straight into CSR
  }
  if (!At) return false;
  attach_transpose(A, std::move(At));
  return true;
}

Mat explicit_transpose(Mat A) {
  PetscObject At = nullptr;
  BILEARN_CHECK(PetscObjectQuery((PetscObject)A, key, &At));
  return (Mat)At;
}

void mult_transpose_implicit(Mat A, Vec y, Vec x) {
  PetscObject container = nullptr;
  BILEARN_CHECK(PetscObjectQuery((PetscObject)A, ops_key, &container));
  if (!container) {
    BILEARN_CHECK(MatMultTranspose(A, y, x));
    return;
  }
  void* ops = nullptr;
  BILEARN_CHECK(PetscContainerGetPointer((PetscContainer)container, &ops));
  BILEARN_CHECK(static_cast<TransposeOps*>(ops)->mult_transpose(A, y, x));
}

double local_matrix_bytes(Mat A) {
  if (!A) return 0;
  if (is_folded(A)) {
    double bytes = 0;
    for (Mat part : folded_parts(A)) bytes += local_matrix_bytes(part);
    return bytes;
  }
  PetscBool mpi = PETSC_FALSE, seq = PETSC_FALSE;
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)A, MATMPIAIJ, &mpi));
  BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)A, MATSEQAIJ, &seq));
  if (!mpi && !seq) return 0;
  Mat blocks[2] = {A, nullptr};
  if (mpi) BILEARN_CHECK(MatMPIAIJGetSeqAIJ(A, &blocks[0], &blocks[1], nullptr));
  double bytes = 0;
  for (Mat block : blocks) {
    if (!block) continue;
    MatInfo info;
    BILEARN_CHECK(MatGetInfo(block, MAT_LOCAL, &info));
    PetscInt m = 0;
    BILEARN_CHECK(MatGetLocalSize(block, &m, nullptr));
    bytes += info.nz_used * (sizeof(PetscScalar) + sizeof(PetscInt)) + static_cast<double>(m + 1) * sizeof(PetscInt);
  }
  return bytes;
}

namespace {
// The stored matrices behind A: A itself, or a folded operator's parts.
std::vector<Mat> stored_matrices(Mat A) {
  std::vector<Mat> parts = folded_parts(A);
  if (parts.empty()) parts.push_back(A);
  return parts;
}

double local_transpose_bytes(Mat A) {
  double bytes = 0;
  for (Mat m : stored_matrices(A)) bytes += local_matrix_bytes(explicit_transpose(m));
  return bytes;
}
}  // namespace

double local_stored_bytes(Mat A) { return local_matrix_bytes(A) + local_transpose_bytes(A); }

OperatorStorage operator_storage(Mat A, MPI_Comm comm) {
  OperatorStorage s;
  bool stored = true;
  for (Mat m : stored_matrices(A)) stored = stored && explicit_transpose(m) != nullptr;
  s.transpose_stored = all_ranks(comm, stored);
  s.matrix_mb_max_rank = max_over_ranks(comm, local_matrix_bytes(A) / mib);
  s.transpose_mb_max_rank = max_over_ranks(comm, local_transpose_bytes(A) / mib);
  return s;
}

}  // namespace bilearn
