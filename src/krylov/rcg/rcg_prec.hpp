// rcg with a preconditioner: deflated PCG (A-DEF2), see rcg_prec.cpp.
#pragma once
#include "krylov/recycle/recycle_ksp.hpp"

namespace bilearn::krylov {

bool run_rcg_preconditioned(KSP ksp, RecycleKsp& d, Mat a, bool use_space);

}  // namespace bilearn::krylov
