// rminres with a preconditioner: preconditioned MINRES with deflation, see rminres_prec.cpp.
#pragma once
#include "krylov/recycle/recycle_ksp.hpp"

namespace bilearn::krylov {

bool run_rminres_preconditioned(KSP ksp, RecycleKsp& d, Mat a, bool use_space);

}  // namespace bilearn::krylov
