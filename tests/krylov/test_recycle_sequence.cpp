// Sequences of systems H_t x_t = b_t: recycling must cut the iteration counts on a slowly
// varying sequence (every selector), must not cost more than a few iterations on an abrupt
// change, must give the right answers, and must count the same iterations on any number of ranks.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "bilearn/core/reduce.hpp"
#include "problems.hpp"

using namespace krylov_test;

namespace {

constexpr PetscInt kN = 32;  // 1024 unknowns

// H_t = L + D₀ − shift·I + t·δ·D₁ and b_t = b₀ + t·δ·b₁.
struct Sequence {
  double shift = 0.0;
  double delta = 0.02;
  double diag = 0.05;  // L + D₀ with D₀ ∈ [0, 0.05]: condition number ≈ 10³
  OwnedMat h(MPI_Comm comm, int t) const {
    OwnedMat a = laplacian(comm, kN, shift, diag, 11);
    OwnedMat d = random_diagonal(a, t * delta, 12);
    BILEARN_CHECK(MatAXPY(a, 1.0, d, SUBSET_NONZERO_PATTERN));
    return a;
  }
  OwnedVec b(Mat like, int t) const {
    OwnedVec v = random_vec(like, 13), w = random_vec(like, 14);
    BILEARN_CHECK(VecAXPY(v, t * delta, w));
    return v;
  }
};

// J for the rgen selectors / NSC: p rows of a fixed pseudo-random matrix.
struct DenseJ {
  std::vector<OwnedVec> rows;
  static PetscErrorCode mult(void* ctx, Vec v, PetscReal* out) {
    auto* self = static_cast<DenseJ*>(ctx);
    std::vector<Vec> raw;
    for (auto& r : self->rows) raw.push_back(r);
    std::vector<PetscScalar> dots(raw.size());
    PetscCall(VecMDot(v, static_cast<PetscInt>(raw.size()), raw.data(), dots.data()));
    for (size_t i = 0; i < dots.size(); ++i) out[i] = PetscRealPart(dots[i]);
    return 0;
  }
};

DenseJ make_j(Mat like, int p) {
  DenseJ j;
  for (int i = 0; i < p; ++i) j.rows.push_back(random_vec(like, 100 + i));
  return j;
}

// Solves the sequence t = 0..n−1 warm-started; returns iteration counts.
std::vector<PetscInt> run_sequence(MPI_Comm comm, const Sequence& seq, int n, const char* type,
                                   const std::string& prefix,
                                   const std::vector<std::pair<std::string, std::string>>& opts, double rtol = 1e-8,
                                   DenseJ* j = nullptr, double* worst_residual = nullptr) {
  OwnedKSP ksp = make_ksp(comm, type, prefix, rtol, opts);
  if (j) BILEARN_CHECK(KSPRecycleSetMixedOperator(ksp, static_cast<PetscInt>(j->rows.size()), DenseJ::mult, j));
  std::vector<PetscInt> its;
  OwnedMat a0 = seq.h(comm, 0);
  OwnedVec x;
  BILEARN_CHECK(MatCreateVecs(a0, x.out(), nullptr));
  BILEARN_CHECK(VecSet(x, 0.0));
  double worst = 0;
  for (int t = 0; t < n; ++t) {
    OwnedMat a = seq.h(comm, t);
    OwnedVec b = seq.b(a, t);
    const SolveResult r = solve(ksp, a, b, x, true);
    EXPECT_GT(r.reason, 0) << prefix << " system " << t;
    worst = std::max(worst, static_cast<double>(relative_residual(a, b, x)));
    its.push_back(r.its);
  }
  if (worst_residual) *worst_residual = worst;
  return its;
}

std::string show(const std::vector<PetscInt>& v) {
  std::string s;
  for (PetscInt i : v) s += std::to_string(i) + " ";
  return s;
}

PetscInt total(const std::vector<PetscInt>& v, size_t from = 0) {
  PetscInt s = 0;
  for (size_t i = from; i < v.size(); ++i) s += v[i];
  return s;
}

}  // namespace

TEST(RecycleSequence, SlowlyVaryingSpdSequenceEverySelector) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  Sequence seq;
  const int n = 5;
  DenseJ j = make_j(seq.h(comm, 0), 6);
  const auto plain = run_sequence(comm, seq, n, KSPMINRES, "sp_minres_", {});
  if (root()) std::printf("  minres (warm)   : %s\n", show(plain).c_str());
  for (const char* sel : {"ritz_both", "ritz_s", "ritz_l", "hritz_s", "hritz_l", "rgen_l", "rgen_s", "rgen_l_left"}) {
    double worst = 0;
    const auto its = run_sequence(comm, seq, n, KSPRMINRES, std::string("sp_") + sel + "_",
                                  {{"-ksp_recycle_k", "20"}, {"-ksp_recycle_select", sel}}, 1e-8, &j, &worst);
    if (root()) std::printf("  rminres %-9s: %s\n", sel, show(its).c_str());
    EXPECT_EQ(its[0], plain[0]) << sel << ": first solve must be plain MINRES";
    EXPECT_LT(worst, 2e-8) << sel;
    if (std::string(sel) == "rgen_s")  // smallest γ: directions J cannot see when p < m (docs/algorithms.md §4.2)
      EXPECT_LE(total(its, 1), total(plain, 1) + 5) << sel << ": " << show(its) << " vs " << show(plain);
    else
      EXPECT_LT(total(its, 1), total(plain, 1)) << sel << ": " << show(its) << " vs " << show(plain);
    if (std::string(sel) == "ritz_both") {
      // a real drop: by the 3rd system at least 30 % fewer iterations than warm MINRES
      EXPECT_LE(its[2], 0.7 * plain[2]) << show(its) << " vs " << show(plain);
      EXPECT_LE(total(its, 2), 0.7 * total(plain, 2));
    }
  }
}

TEST(RecycleSequence, SlowlyVaryingIndefiniteSequence) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  Sequence seq;
  seq.diag = 1.0;
  seq.shift = 0.5;
  const int n = 5;
  const auto plain = run_sequence(comm, seq, n, KSPMINRES, "si_minres_", {});
  double worst = 0;
  const auto its =
      run_sequence(comm, seq, n, KSPRMINRES, "si_rminres_", {{"-ksp_recycle_k", "20"}}, 1e-8, nullptr, &worst);
  if (root()) std::printf("  indefinite: minres %s| rminres ritz_both %s\n", show(plain).c_str(), show(its).c_str());
  EXPECT_LT(worst, 2e-8);
  EXPECT_LE(its[2], 0.7 * plain[2]);
  EXPECT_LE(total(its, 1), 0.7 * total(plain, 1));
}

TEST(RecycleSequence, RcgOnSpdSequence) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  Sequence seq;
  const int n = 5;
  const auto plain = run_sequence(comm, seq, n, KSPCG, "sc_cg_", {});
  double worst = 0;
  const auto its = run_sequence(comm, seq, n, KSPRCG, "sc_rcg_", {{"-ksp_recycle_k", "20"}}, 1e-8, nullptr, &worst);
  if (root()) std::printf("  cg (warm) %s| rcg ritz_both %s\n", show(plain).c_str(), show(its).c_str());
  EXPECT_EQ(its[0], plain[0]);
  EXPECT_LT(worst, 2e-8);
  EXPECT_LE(its[2], 0.7 * plain[2]);
}

TEST(RecycleSequence, AbruptChangeCostsAtMostAFewIterations) {
  // After a space built on one family, a completely different operator and right-hand side.
  MPI_Comm comm = PETSC_COMM_WORLD;
  Sequence first, second;
  second.shift = 0.45;
  for (const char* type : {KSPRMINRES, KSPRCG}) {
    const bool cg = std::string(type) == KSPRCG;
    if (cg) second.shift = -2.0;  // SPD for rcg, well away from the first family
    OwnedKSP rec = make_ksp(comm, type, std::string("ab_") + type + "_", 1e-8, {{"-ksp_recycle_k", "20"}});
    OwnedKSP ref = make_ksp(comm, cg ? KSPCG : KSPMINRES, std::string("abref_") + type + "_", 1e-8);
    OwnedMat a0 = first.h(comm, 0);
    OwnedVec x;
    BILEARN_CHECK(MatCreateVecs(a0, x.out(), nullptr));
    BILEARN_CHECK(VecSet(x, 0.0));
    for (int t = 0; t < 3; ++t) {
      OwnedMat a = first.h(comm, t);
      OwnedVec b = first.b(a, t);
      solve(rec, a, b, x, true);
    }
    OwnedMat a2 = laplacian(comm, kN, second.shift, 3.0, 99);
    OwnedVec b2 = random_vec(a2, 98);
    OwnedVec x2, xr;
    BILEARN_CHECK(VecDuplicate(b2, x2.out()));
    BILEARN_CHECK(VecDuplicate(b2, xr.out()));
    BILEARN_CHECK(VecSet(x2, 0.0));
    BILEARN_CHECK(VecSet(xr, 0.0));
    const SolveResult rr = solve(rec, a2, b2, x2, false);
    const SolveResult rp = solve(ref, a2, b2, xr, false);
    if (root()) std::printf("  abrupt change (%s): plain %d, recycled %d\n", type, (int)rp.its, (int)rr.its);
    EXPECT_GT(rr.reason, 0) << type;
    EXPECT_LE(rr.its, rp.its + 5) << type;
    EXPECT_LT(relative_residual(a2, b2, x2), 2e-8) << type;
    EXPECT_LT(relative_difference(x2, xr), 1e-5) << type;
  }
}

TEST(RecycleSequence, SameIterationCountsOnOneRankAndOnAll) {
  // The same sequence on PETSC_COMM_SELF (every rank alone) and on all ranks: counts within ±1.
  Sequence seq;
  const int n = 4;
  const std::vector<std::pair<std::string, std::string>> opts = {{"-ksp_recycle_k", "16"}};
  const auto serial = run_sequence(PETSC_COMM_SELF, seq, n, KSPRMINRES, "rk_self_", opts);
  const auto parallel = run_sequence(PETSC_COMM_WORLD, seq, n, KSPRMINRES, "rk_world_", opts);
  const auto serial_cg = run_sequence(PETSC_COMM_SELF, seq, n, KSPRCG, "rkc_self_", opts);
  const auto parallel_cg = run_sequence(PETSC_COMM_WORLD, seq, n, KSPRCG, "rkc_world_", opts);
  if (root())
    std::printf("  one rank %s| all ranks %s|| rcg %s| %s\n", show(serial).c_str(), show(parallel).c_str(),
                show(serial_cg).c_str(), show(parallel_cg).c_str());
  for (int t = 0; t < n; ++t) {
    EXPECT_LE(std::abs(serial[t] - parallel[t]), 1) << "t=" << t;
    EXPECT_LE(std::abs(serial_cg[t] - parallel_cg[t]), 1) << "t=" << t;
  }
}

TEST(RecycleSequence, NscStopsEarlierWithinTheJTolerance) {
  // rgen_l + NSC on the SPD sequence: the residual tolerance is tight (1e-10), so the estimate of
  // ‖J(x* − x)‖ is what stops; the true J-error must stay within the tolerance.
  MPI_Comm comm = PETSC_COMM_WORLD;
  Sequence seq;
  const int n = 6, p = 6;
  DenseJ j = make_j(seq.h(comm, 0), p);
  OwnedKSP ref = make_ksp(comm, KSPMINRES, "nsc_ref_", 1e-13);
  const double tol = 1e-3;
  const std::vector<std::pair<std::string, std::string>> base = {{"-ksp_recycle_k", "20"},
                                                                 {"-ksp_recycle_select", "rgen_l"}};
  auto with_nsc = base;
  with_nsc.push_back({"-ksp_recycle_nsc", "1"});
  with_nsc.push_back({"-ksp_recycle_nsc_tol", std::to_string(tol)});
  OwnedKSP plain = make_ksp(comm, KSPRMINRES, "nsc_off_", 1e-10, base);
  OwnedKSP nsc = make_ksp(comm, KSPRMINRES, "nsc_on_", 1e-10, with_nsc);
  BILEARN_CHECK(KSPRecycleSetMixedOperator(plain, p, DenseJ::mult, &j));
  BILEARN_CHECK(KSPRecycleSetMixedOperator(nsc, p, DenseJ::mult, &j));
  OwnedMat a0 = seq.h(comm, 0);
  OwnedVec x1, x2, xs, diff;
  BILEARN_CHECK(MatCreateVecs(a0, x1.out(), nullptr));
  BILEARN_CHECK(VecDuplicate(x1, x2.out()));
  BILEARN_CHECK(VecDuplicate(x1, xs.out()));
  BILEARN_CHECK(VecDuplicate(x1, diff.out()));
  BILEARN_CHECK(VecSet(x1, 0.0));
  BILEARN_CHECK(VecSet(x2, 0.0));
  std::vector<PetscInt> its_plain, its_nsc;
  std::vector<double> jerr, eta, rel;
  int stopped = 0;
  for (int t = 0; t < n; ++t) {
    OwnedMat a = seq.h(comm, t);
    OwnedVec b = seq.b(a, t);
    its_plain.push_back(solve(plain, a, b, x1, true).its);
    const SolveResult r = solve(nsc, a, b, x2, true);
    its_nsc.push_back(r.its);
    EXPECT_GT(r.reason, 0);
    BILEARN_CHECK(VecSet(xs, 0.0));
    solve(ref, a, b, xs, false);
    BILEARN_CHECK(VecWAXPY(diff, -1.0, xs, x2));
    std::vector<PetscReal> jd(p);
    BILEARN_CHECK(DenseJ::mult(&j, diff, jd.data()));
    double e = 0;
    for (PetscReal v : jd) e += v * v;
    jerr.push_back(std::sqrt(e));
    const KSPRecycleInfo inf = info(nsc);
    eta.push_back(inf.nsc_estimate);
    PetscReal rn = 0, bn = 0;
    BILEARN_CHECK(KSPGetResidualNorm(nsc, &rn));
    BILEARN_CHECK(VecNorm(b, NORM_2, &bn));
    rel.push_back(rn / bn);
    stopped += inf.nsc_stopped ? 1 : 0;
  }
  if (root()) {
    std::printf("  rgen_l: %s| rgen_l + NSC: %s\n  J-error:", show(its_plain).c_str(), show(its_nsc).c_str());
    for (int t = 0; t < n; ++t) std::printf(" %.2e (eta %.2e, |r|/|b| %.1e)", jerr[t], eta[t], rel[t]);
    std::printf("\n");
  }
  EXPECT_EQ(its_nsc[0], its_plain[0]);  // first system: no J-aware space yet, residual test only
  EXPECT_GE(stopped, n - 2);
  EXPECT_LT(total(its_nsc, 1), 0.8 * total(its_plain, 1));
  // NSC stops when the estimate is below 0.3·tol; the estimate may underestimate (published:
  // median factor 0.4, range 0.1–1.2): every error within tol/0.3, the mean within tol.
  double mean = 0;
  for (int t = 0; t < n; ++t) {
    EXPECT_LE(jerr[t], tol / 0.3) << "t=" << t;
    mean += jerr[t] / n;
  }
  EXPECT_LE(mean, tol);
}
