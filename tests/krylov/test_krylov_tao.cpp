// The recycling KSP types inside TAO's Newton solver (the lower-level use): the recycle space is
// carried across Newton steps (TAO nls uses the Tao's prefix for its KSP: -<prefix>ksp_type rminres),
// the minimiser is found, and fewer Krylov iterations are spent than
// with plain MINRES.
#include <gtest/gtest.h>
#include <petsctao.h>

#include <cmath>

#include "problems.hpp"

using namespace krylov_test;

namespace {

// f(x) = ½ xᵀA x − bᵀx + (μ/4) Σ x_i⁴ with A SPD: ∇f = A x − b + μ x³, ∇²f = A + 3μ diag(x²).
struct Quartic {
  Mat a = nullptr;
  Vec b = nullptr;
  double mu = 0.3;
  OwnedVec work;

  static PetscErrorCode objective_gradient(Tao, Vec x, PetscReal* f, Vec g, void* ctx) {
    auto* q = static_cast<Quartic*>(ctx);
    PetscCall(MatMult(q->a, x, g));
    PetscScalar xax = 0, bx = 0;
    PetscCall(VecDot(x, g, &xax));
    PetscCall(VecDot(q->b, x, &bx));
    PetscCall(VecAXPY(g, -1.0, q->b));
    PetscCall(VecPointwiseMult(q->work, x, x));
    PetscReal quart = 0;
    PetscCall(VecNorm(q->work, NORM_2, &quart));  // ‖x²‖² = Σ x⁴
    PetscCall(VecPointwiseMult(q->work, q->work, x));
    PetscCall(VecAXPY(g, q->mu, q->work));
    *f = 0.5 * PetscRealPart(xax) - PetscRealPart(bx) + 0.25 * q->mu * quart * quart;
    return 0;
  }
  static PetscErrorCode hessian(Tao, Vec x, Mat h, Mat, void* ctx) {
    auto* q = static_cast<Quartic*>(ctx);
    PetscCall(MatCopy(q->a, h, SAME_NONZERO_PATTERN));
    PetscCall(VecPointwiseMult(q->work, x, x));
    PetscCall(VecScale(q->work, 3.0 * q->mu));
    PetscCall(MatDiagonalSet(h, q->work, ADD_VALUES));
    return 0;
  }
};

struct TaoRun {
  PetscInt newton = 0, krylov = 0;
  PetscReal gnorm = 0;
  TaoConvergedReason reason = TAO_CONTINUE_ITERATING;
  OwnedVec x;
};

TaoRun run_tao(const std::string& prefix, const char* ksp_type,
               const std::vector<std::pair<std::string, std::string>>& opts) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  OwnedMat a = laplacian(comm, 24, 0.0, 0.02, 91);
  OwnedVec b = random_vec(a, 92);
  BILEARN_CHECK(VecScale(b, 10.0));
  Quartic q;
  q.a = a;
  q.b = b;
  BILEARN_CHECK(VecDuplicate(b, q.work.out()));
  OwnedMat h;
  BILEARN_CHECK(MatDuplicate(a, MAT_COPY_VALUES, h.out()));
  TaoRun run;
  BILEARN_CHECK(VecDuplicate(b, run.x.out()));
  BILEARN_CHECK(VecSet(run.x, 0.0));
  bilearn::OwnedTao tao;
  BILEARN_CHECK(TaoCreate(comm, tao.out()));
  BILEARN_CHECK(TaoSetType(tao, TAONLS));
  BILEARN_CHECK(TaoSetOptionsPrefix(tao, prefix.c_str()));
  BILEARN_CHECK(TaoSetSolution(tao, run.x));
  BILEARN_CHECK(TaoSetObjectiveAndGradient(tao, nullptr, Quartic::objective_gradient, &q));
  BILEARN_CHECK(TaoSetHessian(tao, h, h, Quartic::hessian, &q));
  BILEARN_CHECK(TaoSetTolerances(tao, 1e-9, 0.0, 0.0));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, ("-" + prefix + "ksp_type").c_str(), ksp_type));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, ("-" + prefix + "pc_type").c_str(), "none"));
  for (const auto& [name, value] : opts)
    BILEARN_CHECK(PetscOptionsSetValue(nullptr, ("-" + prefix + name.substr(1)).c_str(), value.c_str()));
  BILEARN_CHECK(TaoSetFromOptions(tao));
  BILEARN_CHECK(TaoSolve(tao));
  BILEARN_CHECK(TaoGetConvergedReason(tao, &run.reason));
  BILEARN_CHECK(TaoGetSolutionStatus(tao, &run.newton, nullptr, &run.gnorm, nullptr, nullptr, nullptr));
  BILEARN_CHECK(TaoGetLinearSolveIterations(tao, &run.krylov));
  return run;
}

}  // namespace

TEST(KrylovTao, NewtonStepsWithRecycledMinres) {
  const TaoRun plain = run_tao("taom_", KSPMINRES, {{"-ksp_rtol", "1e-8"}});
  const TaoRun rec = run_tao("taor_", KSPRMINRES, {{"-ksp_rtol", "1e-8"}, {"-ksp_recycle_k", "16"}});
  if (root())
    std::printf("  TAO nls: minres %d Newton steps / %d Krylov its, rminres %d / %d\n", (int)plain.newton,
                (int)plain.krylov, (int)rec.newton, (int)rec.krylov);
  EXPECT_GT(plain.reason, 0);
  EXPECT_GT(rec.reason, 0);
  EXPECT_LT(rec.gnorm, 1e-9);
  EXPECT_LT(relative_difference(rec.x, plain.x), 1e-7);
  EXPECT_LT(rec.krylov, 0.95 * plain.krylov);
}
