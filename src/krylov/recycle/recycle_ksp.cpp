// The parts of the rminres and rcg KSP types they share: creation, options, view, reset,
// destroy, the methods the KSPRecycle* functions dispatch to (src/krylov/ksp_recycle.cpp), and
// the steps before and after the iteration loop.
#include "krylov/recycle/recycle_ksp.hpp"

#include <petsc/private/petscimpl.h>

#include <cmath>
#include <cstring>
#include <sstream>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/core/options.hpp"
#include "krylov/recycle/eps_init.hpp"

namespace bilearn::krylov {
namespace {

// Composes the methods the KSPRecycle* functions dispatch to (remove: detaches them).
void compose_methods(KSP ksp, bool remove);

MPI_Comm comm_of(KSP ksp) {
  return PetscObjectComm((PetscObject)ksp);
}

std::string prefix_of(KSP ksp) {
  const char* p = nullptr;
  BILEARN_CHECK(KSPGetOptionsPrefix(ksp, &p));
  return p ? p : "";
}

// Records msg as the last message (PetscInfo; on rank 0 too with -ksp_recycle_verbose).
void note(KSP ksp, RecycleKsp& d, const std::string& msg) {
  d.message = msg;
  BILEARN_CHECK(PetscInfo(ksp, "%s\n", msg.c_str()));
  if (d.opt.verbose) BILEARN_CHECK(PetscPrintf(comm_of(ksp), "%s: %s\n", d.type_name, msg.c_str()));
}

PetscErrorCode setup(KSP ksp) {
  return guarded(comm_of(ksp), __func__, [&] {
    RecycleKsp& d = recycle_data(ksp);
    const bool pc = has_preconditioner(ksp);
    // rminres with a preconditioner keeps KSPMINRES's nine vectors, the residual and a scratch
    BILEARN_CHECK(KSPSetWorkVecs(ksp, std::strcmp(d.type_name, KSPRCG) == 0 ? 5 : (pc ? 11 : 7)));
  });
}

PetscErrorCode set_from_options(KSP ksp, PetscOptionItems*) {
  return guarded(comm_of(ksp), __func__, [&] {
    RecycleKsp& d = recycle_data(ksp);
    RecycleOptions& o = d.opt;
    const std::string title = std::string("Recycling Krylov (") + d.type_name + ") options";
    OptionsBlock ob(comm_of(ksp), prefix_of(ksp), title);
    o.k = ob.integer("-ksp_recycle_k", "Dimension of the recycle space (0: no recycling)", o.k, 0);
    o.m = ob.integer("-ksp_recycle_m", "Lanczos vectors kept per update cycle (default 3k)",
                     std::max<PetscInt>(3 * o.k, 10), 1);
    o.selector = parse_selector(
        ob.choice("-ksp_recycle_select", "Which vectors to recycle", selector_names(), selector_name(o.selector)));
    o.nsc = ob.flag("-ksp_recycle_nsc", "Stop on the estimated hypergradient error ||J(x* - x)|| (needs J)", o.nsc);
    o.nsc_tol =
        ob.real("-ksp_recycle_nsc_tol", "Absolute tolerance of the NSC estimate", o.nsc_tol, 0.0, PETSC_INFINITY);
    o.nsc_safety = ob.real("-ksp_recycle_nsc_safety", "NSC stops when the estimate is below this times the tolerance",
                           o.nsc_safety, 0.0, PETSC_INFINITY);
    o.nsc_rtol_floor = ob.real("-ksp_recycle_nsc_rtol_floor", "NSC may stop only once ||r|| <= this times ||b||",
                               o.nsc_rtol_floor, 0.0, PETSC_INFINITY);
    o.nsc_k =
        ob.integer("-ksp_recycle_nsc_k", "Directions of J H^-1 in the NSC estimate", std::max<PetscInt>(o.k, 1), 1);
    o.init = ob.choice("-ksp_recycle_init", "First recycle space", {"none", "eps"}, o.init);
    o.check =
        ob.flag("-ksp_recycle_check", "Verify the true residual after a recycled solve (one operator apply)", o.check);
    o.carry_hu = ob.flag("-ksp_recycle_carry_hu",
                         "Build H U for the next system from the Lanczos relation when a split is set or the "
                         "operator repeats (saves k operator applies)",
                         o.carry_hu);
    o.first_window = ob.choice("-ksp_recycle_window",
                               "Lanczos vectors the update sees: all, m at a time (cycle), or the first m only",
                               {"cycle", "first"}, o.first_window ? "first" : "cycle") == "first";
    o.update = ob.flag("-ksp_recycle_update", "Update the space after each solve (false: keep it frozen)", o.update);
    o.update_every = ob.integer("-ksp_recycle_update_every",
                                "Rebuild the space after every n-th solve; in between it is reused unchanged (no "
                                "Lanczos vectors recorded; with a split only R U is recomputed)",
                                o.update_every, 1);
    o.tol.rank = ob.real("-ksp_recycle_rank_tol", "Drop a column of H U whose norm falls below this fraction in QR",
                         o.tol.rank, 0.0, 1.0);
    o.tol.carried = ob.real("-ksp_recycle_carried_rank_tol",
                            "The same for an H U carried from the previous solve, and the norm below which a carried "
                            "column's product is noise (applied afresh); at least 1e-12/rtol, above 1e-2 nothing is "
                            "carried",
                            o.tol.carried, 0.0, 1.0);
    o.tol.collapse = ob.real("-ksp_recycle_collapse_tol",
                             "Drop a column of an updated space whose norm has cancelled below this fraction (noise)",
                             o.tol.collapse, 0.0, 1.0);
    o.tol.probe = ob.real("-ksp_recycle_probe_tol",
                          "Recompute a carried H U whose one-apply probe has a larger relative error (0: no probe)",
                          o.tol.probe, 0.0, PETSC_INFINITY);
    o.verbose = ob.flag("-ksp_recycle_verbose", "One line per solve and per reset on rank 0", o.verbose);
    d.space.set_capacity(o.k);
  });
}

PetscErrorCode view(KSP ksp, PetscViewer viewer) {
  return guarded(comm_of(ksp), __func__, [&] {
    PetscBool ascii = PETSC_FALSE;
    BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
    if (!ascii) return;
    RecycleKsp& d = recycle_data(ksp);
    const RecycleOptions& o = d.opt;
    BILEARN_CHECK(PetscViewerASCIIPrintf(viewer,
                                         "  recycle space: k=%" PetscInt_FMT ", m=%" PetscInt_FMT
                                         ", selector %s, dimension used %" PetscInt_FMT ", next %" PetscInt_FMT "\n",
                                         o.k, o.m, selector_name(o.selector), d.info.dim, d.space.dim()));
    if (d.info.orthogonality >= 0)
      BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "  orthogonality loss ||C^T C - I||_F = %g (C from %s)\n",
                                           (double)d.info.orthogonality, d.info.source ? d.info.source : "none"));
    else
      BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "  orthogonality loss ||C^T C - I||_F: not measured (C from %s)\n",
                                           d.info.source ? d.info.source : "none"));
    if (o.update_every > 1)
      BILEARN_CHECK(
          PetscViewerASCIIPrintf(viewer, "  space rebuilt after every %" PetscInt_FMT "th solve\n", o.update_every));
    BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "  operator split: %s; J: %s; true-residual check: %s\n",
                                         d.split_fixed ? "yes" : "no", d.j.available() ? "set" : "none",
                                         o.check ? "on" : "off"));
    if (o.nsc)
      BILEARN_CHECK(
          PetscViewerASCIIPrintf(viewer, "  NSC: tol %g, safety %g, residual floor %g, %" PetscInt_FMT " directions\n",
                                 (double)o.nsc_tol, (double)o.nsc_safety, (double)o.nsc_rtol_floor, o.nsc_k));
    if (d.total_resets > 0)
      BILEARN_CHECK(PetscViewerASCIIPrintf(viewer, "  spaces discarded so far: %" PetscInt_FMT "\n", d.total_resets));
  });
}

PetscErrorCode reset(KSP ksp) {
  return guarded(comm_of(ksp), __func__, [&] {
    // The recycle space is kept on purpose (it is checked against the next operator).
    recycle_data(ksp).updater.free_storage();
    recycle_data(ksp).pupdater.free_storage();
  });
}

PetscErrorCode destroy(KSP ksp) {
  return guarded(comm_of(ksp), __func__, [&] {
    auto* d = static_cast<RecycleKsp*>(ksp->data);
    if (d) {
      MatDestroy(&d->split_fixed);
      MatDestroy(&d->split_varying);
      delete d;
    }
    ksp->data = nullptr;
    BILEARN_CHECK(KSPDestroyDefault(ksp));
    compose_methods(ksp, true);
  });
}

// During the iteration x lacks the correction −U zacc: monitors asking for the solution get it.
PetscErrorCode build_solution(KSP ksp, Vec v, Vec* out) {
  return guarded(comm_of(ksp), __func__, [&] {
    RecycleKsp& d = recycle_data(ksp);
    if (!d.in_solve || d.s == 0 || d.preconditioned) {
      BILEARN_CHECK(KSPBuildSolutionDefault(ksp, v, out));
      return;
    }
    Vec target = v ? v : ksp->work[ksp->nwork - 1];
    BILEARN_CHECK(VecCopy(ksp->vec_sol, target));
    std::vector<PetscScalar> neg(d.zacc.size());
    for (size_t i = 0; i < neg.size(); ++i) neg[i] = -d.zacc[i];
    BILEARN_CHECK(VecMAXPY(target, d.s, neg.data(), d.space.u()));
    *out = target;
  });
}

PetscErrorCode set_split(KSP ksp, Mat fixed, Mat varying) {
  return guarded(comm_of(ksp), __func__, [&] {
    RecycleKsp& d = recycle_data(ksp);
    if (fixed) BILEARN_CHECK(PetscObjectReference((PetscObject)fixed));
    if (varying) BILEARN_CHECK(PetscObjectReference((PetscObject)varying));
    BILEARN_CHECK(MatDestroy(&d.split_fixed));
    BILEARN_CHECK(MatDestroy(&d.split_varying));
    if (fixed && varying) {
      d.split_fixed = fixed;
      d.split_varying = varying;
    } else {
      MatDestroy(&fixed);
      MatDestroy(&varying);
    }
  });
}

PetscErrorCode set_mixed(KSP ksp, PetscInt p, PetscErrorCode (*jmult)(void*, Vec, PetscReal*), void* ctx) {
  return guarded(comm_of(ksp), __func__, [&] {
    RecycleKsp& d = recycle_data(ksp);
    d.j = MixedOperator{jmult ? p : 0, jmult, ctx};
  });
}

PetscErrorCode set_space(KSP ksp, PetscInt n, const Vec vecs[]) {
  return guarded(comm_of(ksp), __func__, [&] {
    RecycleKsp& d = recycle_data(ksp);
    d.space.set_capacity(d.opt.k);
    d.space.set_basis(n, vecs);
    d.updater.drop_nsc();
  });
}

PetscErrorCode copy_space(KSP to, KSP from) {
  return guarded(comm_of(to), __func__, [&] {
    PetscBool recycling = PETSC_FALSE;
    BILEARN_CHECK(KSPRecycleIsRecycling(from, &recycling));
    if (!recycling) return;
    RecycleKsp& d = recycle_data(to);
    d.space.set_capacity(d.opt.k);
    d.space.copy_from(recycle_data(from).space);
    d.updater.drop_nsc();
  });
}

PetscErrorCode get_space(KSP ksp, PetscInt* n, const Vec** vecs) {
  return guarded(comm_of(ksp), __func__, [&] {
    RecycleKsp& d = recycle_data(ksp);
    *n = d.space.dim();
    *vecs = d.space.u();
  });
}

PetscErrorCode get_space_state(KSP ksp, PetscInt* n_products, const Vec** products, PetscBool* from_update) {
  return guarded(comm_of(ksp), __func__, [&] {
    const RecycleSpace& space = recycle_data(ksp).space;
    *products = space.fixed_products();
    *n_products = *products ? space.dim() : 0;
    *from_update = space.from_update() ? PETSC_TRUE : PETSC_FALSE;
  });
}

PetscErrorCode set_space_state(KSP ksp, PetscInt n, const Vec vecs[], const Vec products[], PetscBool from_update) {
  return guarded(comm_of(ksp), __func__, [&] {
    RecycleKsp& d = recycle_data(ksp);
    d.space.set_capacity(d.opt.k);
    d.space.restore(n, vecs, d.split_fixed && d.split_varying ? products : nullptr, d.split_fixed, from_update);
    d.updater.drop_nsc();
  });
}

// Programmatic counterparts of -ksp_recycle_k and -ksp_recycle_update (defaults for KSPSetFromOptions).
PetscErrorCode set_k(KSP ksp, PetscInt k) {
  return guarded(comm_of(ksp), __func__, [&] {
    require(k >= 0, "KSPRecycleSetK: the dimension must be >= 0, got " + std::to_string(k));
    RecycleKsp& d = recycle_data(ksp);
    d.opt.k = k;
    d.opt.m = std::max<PetscInt>(3 * k, 10);
    d.space.set_capacity(k);
  });
}

PetscErrorCode set_update(KSP ksp, PetscBool update) {
  return guarded(comm_of(ksp), __func__, [&] { recycle_data(ksp).opt.update = update == PETSC_TRUE; });
}

PetscErrorCode reset_space(KSP ksp) {
  return guarded(comm_of(ksp), __func__, [&] {
    RecycleKsp& d = recycle_data(ksp);
    d.space.reset();
    d.updater.drop_nsc();
  });
}

PetscErrorCode get_info(KSP ksp, KSPRecycleInfo* info) {
  return guarded(comm_of(ksp), __func__, [&] {
    RecycleKsp& d = recycle_data(ksp);
    *info = d.info;
    info->next_dim = d.space.dim();
    info->resets = d.total_resets;
    info->message = d.message.c_str();
    // U, C (2k; F·U too with -ksp_recycle_update_every), candidate and H·candidate (2k), cycle buffer
    // (m + 2), NSC block
    info->stored_vectors = d.space.stored_vectors();
    info->stored_vectors += d.updater.stored_vectors() + d.pupdater.stored_vectors();
  });
}

void compose_methods(KSP ksp, bool remove) {
  const std::pair<const char*, PetscVoidFunction> methods[] = {
      {"KSPRecycleSetOperatorSplit_C", (PetscVoidFunction)set_split},
      {"KSPRecycleSetMixedOperator_C", (PetscVoidFunction)set_mixed},
      {"KSPRecycleSetSpace_C", (PetscVoidFunction)set_space},
      {"KSPRecycleCopySpace_C", (PetscVoidFunction)copy_space},
      {"KSPRecycleGetSpace_C", (PetscVoidFunction)get_space},
      {"KSPRecycleGetSpaceState_C", (PetscVoidFunction)get_space_state},
      {"KSPRecycleSetSpaceState_C", (PetscVoidFunction)set_space_state},
      {"KSPRecycleResetSpace_C", (PetscVoidFunction)reset_space},
      {"KSPRecycleGetInfo_C", (PetscVoidFunction)get_info},
      {"KSPRecycleSetK_C", (PetscVoidFunction)set_k},
      {"KSPRecycleSetUpdate_C", (PetscVoidFunction)set_update}};
  for (const auto& [name, f] : methods)
    BILEARN_CHECK(PetscObjectComposeFunction_Private((PetscObject)ksp, name, remove ? nullptr : f));
}

}  // namespace

RecycleKsp& recycle_data(KSP ksp) {
  auto* d = static_cast<RecycleKsp*>(ksp->data);
  if (!d) throw NumericalError("recycling KSP has no data");
  return *d;
}

namespace {

PetscErrorCode solve(KSP ksp) {
  return guarded(PetscObjectComm((PetscObject)ksp), __func__, [&] {
    log::ScopedEvent ev(log::events().krylov_solve);
    RecycleKsp& d = recycle_data(ksp);
    Mat a = nullptr, pm = nullptr;
    BILEARN_CHECK(PCGetOperators(ksp->pc, &a, &pm));
    PetscBool diagonalscale = PETSC_FALSE;
    BILEARN_CHECK(PCGetDiagonalScale(ksp->pc, &diagonalscale));
    if (diagonalscale) throw InputError(std::string("KSP ") + d.type_name + " does not support diagonal scaling");
    if (!d.run(ksp, d, a, true)) {
      const PetscInt its = ksp->its;
      const PetscBool guess_zero = ksp->guess_zero;
      ksp->guess_zero = PETSC_FALSE;
      d.run(ksp, d, a, false);
      ksp->guess_zero = guess_zero;
      ksp->its += its;
    }
  });
}

}  // namespace

void create_recycle_ksp(KSP ksp, const char* type_name, RecycledRun run) {
  auto* d = new RecycleKsp();
  d->type_name = type_name;
  d->run = run;
  d->space.set_capacity(d->opt.k);
  d->info.true_residual = -1;
  d->info.orthogonality = -1;
  d->info.source = "none";
  ksp->data = d;
  // No preconditioning: an untyped PC becomes none now, so that KSPSetFromOptions does not give
  // it PETSc's default (ILU / block Jacobi) and -ksp_type rminres works on its own.
  PC pc = nullptr;
  BILEARN_CHECK(KSPGetPC(ksp, &pc));
  const char* pc_type = nullptr;
  BILEARN_CHECK(PetscObjectGetType((PetscObject)pc, &pc_type));
  if (!pc_type) BILEARN_CHECK(PCSetType(pc, PCNONE));
  BILEARN_CHECK(KSPSetSupportedNorm(ksp, KSP_NORM_UNPRECONDITIONED, PC_LEFT, 3));
  BILEARN_CHECK(KSPSetSupportedNorm(ksp, KSP_NORM_PRECONDITIONED, PC_LEFT, 2));
  BILEARN_CHECK(KSPSetSupportedNorm(ksp, KSP_NORM_NONE, PC_LEFT, 1));
  ksp->ops->setup = setup;
  ksp->ops->solve = solve;
  ksp->ops->destroy = destroy;
  ksp->ops->view = view;
  ksp->ops->setfromoptions = set_from_options;
  ksp->ops->reset = reset;
  ksp->ops->buildsolution = build_solution;
  ksp->ops->buildresidual = KSPBuildResidualDefault;
  compose_methods(ksp, false);
}

bool has_preconditioner(KSP ksp) {
  PC pc = nullptr;
  BILEARN_CHECK(KSPGetPC(ksp, &pc));
  const char* type = nullptr;
  BILEARN_CHECK(PetscObjectGetType((PetscObject)pc, &type));
  if (!type) {
    BILEARN_CHECK(PCSetType(pc, PCNONE));
    return false;
  }
  if (std::strcmp(type, PCNONE) == 0) return false;
  // PETSc's own default (ILU, ICC, block Jacobi, given by PCSetFromOptions before -ksp_type is
  // read) is replaced by none; a preconditioner chosen on purpose is an error.
  const char* pc_prefix = nullptr;
  BILEARN_CHECK(PCGetOptionsPrefix(pc, &pc_prefix));
  PetscBool chosen = PETSC_FALSE;
  BILEARN_CHECK(PetscOptionsHasName(((PetscObject)pc)->options, pc_prefix, "-pc_type", &chosen));
  const bool petsc_default =
      std::strcmp(type, PCILU) == 0 || std::strcmp(type, PCICC) == 0 || std::strcmp(type, PCBJACOBI) == 0;
  if (petsc_default && !chosen) {
    BILEARN_CHECK(PetscInfo(ksp, "default preconditioner %s replaced by none\n", type));
    BILEARN_CHECK(PCSetType(pc, PCNONE));
    return false;
  }
  return true;
}

void deflate_initial(RecycleKsp& d, Vec x, Vec r) {
  const PetscInt s = d.s;
  if (s == 0) return;
  std::vector<PetscScalar> ur(static_cast<size_t>(s)), t(static_cast<size_t>(s));
  BILEARN_CHECK(VecMDot(r, s, d.space.u(), ur.data()));
  apply_winv(d, ur.data(), t.data());
  BILEARN_CHECK(VecMAXPY(x, s, t.data(), d.space.u()));
  for (auto& v : t) v = -v;
  BILEARN_CHECK(VecMAXPY(r, s, t.data(), d.space.c()));
}

void apply_winv(const RecycleKsp& d, const PetscScalar* v, PetscScalar* out) {
  const PetscInt s = d.s;
  for (PetscInt i = 0; i < s; ++i) {
    PetscReal acc = 0;
    for (PetscInt j = 0; j < s; ++j) acc += d.winv(i, j) * PetscRealPart(v[j]);
    out[i] = acc;
  }
}

void apply_pc(KSP ksp, RecycleKsp& d, Vec r, Vec z) {
  BILEARN_CHECK(KSP_PCApply(ksp, r, z));
  ++d.info.pc_applies;
}

void reject_preconditioner(KSP ksp, PetscReal rz) {
  PC pc = nullptr;
  BILEARN_CHECK(KSPGetPC(ksp, &pc));
  const char* type = nullptr;
  BILEARN_CHECK(PCGetType(pc, &type));
  std::ostringstream msg;
  msg << "KSP " << recycle_data(ksp).type_name << " needs a symmetric positive definite preconditioner, but PC "
      << (type ? type : "?") << " gave r'M^-1 r = " << rz << " <= 0";
  throw InputError(msg.str());
}

void begin_solve(KSP ksp, RecycleKsp& d, Mat a, bool use_space) {
  d.preconditioned = has_preconditioner(ksp);
  if (use_space) {  // a rerun without the space (after a failed check) keeps counting
    d.info = KSPRecycleInfo{};
    d.info.true_residual = -1;
    d.info.orthogonality = -1;
    d.info.source = "none";
    d.message.clear();
  }
  d.info.restarted = use_space ? PETSC_FALSE : PETSC_TRUE;
  d.s = 0;
  d.nz = 0;
  const RecycleOptions& o = d.opt;
  if (o.k > 0) {
    log::ScopedEvent ev(log::events().recycle_update);
    Vec tmpl = ksp->vec_rhs;
    // -ksp_recycle_update_every: whether this solve is due to rebuild the space
    const bool rebuild_due = o.update && d.solves_since_update + 1 >= o.update_every;
    if (selector_needs_j(o.selector) && !d.j.available())
      throw InputError(std::string("-") + prefix_of(ksp) + "ksp_recycle_select " + selector_name(o.selector) +
                       " needs J: call KSPRecycleSetMixedOperator() or choose a ritz/hritz selector");
    if (o.nsc && !o.update)
      throw InputError(std::string("-") + prefix_of(ksp) + "ksp_recycle_nsc needs -" + prefix_of(ksp) +
                       "ksp_recycle_update (the estimate is built by the update)");
    if (o.nsc && !d.j.available())
      throw InputError(std::string("-") + prefix_of(ksp) +
                       "ksp_recycle_nsc needs J: call KSPRecycleSetMixedOperator()");
    if (d.preconditioned && (o.nsc || selector_needs_j(o.selector) || selector_needs_harmonic(o.selector)))
      throw InputError(std::string("-") + prefix_of(ksp) + "ksp_type " + d.type_name +
                       " with a preconditioner supports the selectors ritz_s, ritz_l, ritz_both and no NSC (got -" +
                       prefix_of(ksp) + "ksp_recycle_select " + selector_name(o.selector) + (o.nsc ? ", NSC)" : ")"));
    d.space.set_capacity(o.k);
    if (o.update) {
      if (d.preconditioned)
        d.pupdater.allocate(tmpl, o.k, o.m);
      else
        d.updater.allocate(tmpl, o.k, o.m, o.nsc ? o.nsc_k : 0);
    }
    if (use_space) {
      if (o.init == "eps" && !d.init_done && d.space.dim() == 0) {
        eps_initial_space(a, o.k, prefix_of(ksp), d.space);
        d.init_done = true;
      }
      // A carried C = HU limits the attainable residual to about its own relative error: about
      // 1e-13/ν for a column that cancelled to norm ν (measured), which must stay below rtol/10.
      PrepareTolerances tol = o.tol;
      if (tol.probe > 0) tol.probe = std::min(tol.probe, 0.1 * ksp->rtol);
      if (ksp->rtol > 0) tol.carried = std::min<PetscReal>(1.0, std::max(tol.carried, 1e-12 / ksp->rtol));
      // A solve that will not rebuild the space keeps F·U, so the next preparation needs only R·U.
      const PrepareReport rep =
          d.space.prepare(a, d.split_fixed, d.split_varying, tmpl, ksp->work[ksp->nwork - 1], tol, !rebuild_due);
      d.info.dim = rep.dim;
      d.info.dropped = rep.dropped;
      d.info.source = rep.source;
      d.info.operator_applies += rep.operator_applies;
      d.info.varying_applies += rep.varying_applies;
      if (rep.reset) {
        ++d.total_resets;
        d.updater.drop_nsc();
      }
      if (!rep.message.empty()) note(ksp, d, rep.message);
      if (rep.dim > 0 && (ksp->view || o.verbose)) d.info.orthogonality = d.space.orthogonality_loss();
      d.s = d.space.dim();
    } else {
      d.space.reset();
      d.space.prepare(a, nullptr, nullptr, tmpl, ksp->work[ksp->nwork - 1], o.tol);
    }
    if (o.nsc && use_space) {
      d.nz = d.updater.nsc_dim();
      if (d.nz > 0) {
        d.ztc = inner(d.updater.nsc_z(), d.nz, d.space.c(), d.s);
        BILEARN_CHECK(VecNorm(ksp->vec_rhs, NORM_2, &d.bnorm));
      }
    }
    // An empty space (first solve, or after a reset) is always rebuilt.
    if (o.update && (d.s == 0 || rebuild_due)) {
      UpdateSettings us;
      us.selector = o.selector;
      us.k = o.k;
      us.m = o.m;
      us.first_window = o.first_window;
      // H·Ũ_next costs k(k + m) flops per row and cycle: build it only when the next preparation
      // can use it (a split, or the same operator again as this solve repeated the previous one).
      PetscObjectId id = 0;
      PetscObjectState state = 0;
      BILEARN_CHECK(PetscObjectGetId((PetscObject)a, &id));
      BILEARN_CHECK(PetscObjectStateGet((PetscObject)a, &state));
      const bool repeated = id == d.last_op_id && state == d.last_op_state;
      d.last_op_id = id;
      d.last_op_state = state;
      us.carry_hu = o.carry_hu && ((d.split_fixed && d.split_varying) || repeated);
      us.k_nsc = o.nsc ? o.nsc_k : 0;
      if (d.preconditioned)
        d.pupdater.begin(d.space, o.selector, o.k, o.first_window);
      else
        d.updater.begin(d.space, us, &d.j);
    }
  }
  if (d.preconditioned) {
    // W = UᵀC = UᵀHU (SPD for rcg; for rminres symmetric and nonsingular on a useful space):
    // inverted through its eigendecomposition, directions with |λ| ≤ 1e-12·max|λ| ignored.
    d.winv = Dense(d.s, d.s);
    if (d.s > 0) {
      const Dense w = inner(d.space.u(), d.s, d.space.c(), d.s);
      Dense ws = w;
      for (PetscInt i = 0; i < d.s; ++i)
        for (PetscInt j = 0; j < d.s; ++j) ws(i, j) = 0.5 * (w(i, j) + w(j, i));
      const SymEig e = sym_eig(ws);
      PetscReal lmax = 0;
      for (PetscReal l : e.values) lmax = std::max(lmax, std::abs(l));
      for (PetscInt l = 0; l < d.s; ++l) {
        const PetscReal lam = e.values[static_cast<size_t>(l)];
        if (!(std::abs(lam) > 1e-12 * lmax)) continue;
        for (PetscInt i = 0; i < d.s; ++i)
          for (PetscInt j = 0; j < d.s; ++j) d.winv(i, j) += e.vectors(i, l) * e.vectors(j, l) / lam;
      }
    }
  }
  d.kernels.reserve(d.s + 2 + d.nz);
  d.zacc.assign(static_cast<size_t>(d.s), 0.0);
  d.fused.assign(static_cast<size_t>(d.s + 1 + d.nz), 0.0);
  d.fused_list.assign(static_cast<size_t>(d.s + 1 + d.nz), nullptr);
  for (PetscInt i = 0; i < d.s; ++i) d.fused_list[static_cast<size_t>(i)] = d.space.c()[i];
  for (PetscInt i = 0; i < d.nz; ++i) d.fused_list[static_cast<size_t>(d.s + 1 + i)] = d.updater.nsc_z()[i];
  d.in_solve = true;
}

bool nsc_says_stop(const RecycleKsp& d, PetscReal eta, PetscReal rnorm) {
  return d.nz > 0 && eta <= d.opt.nsc_safety * d.opt.nsc_tol && rnorm <= d.opt.nsc_rtol_floor * d.bnorm;
}

bool end_solve(KSP ksp, RecycleKsp& d, Mat a, Vec scratch, bool update, Vec next, PetscScalar scale) {
  Vec x = ksp->vec_sol;
  if (d.s > 0 && !d.preconditioned) {
    std::vector<PetscScalar> neg(d.zacc.size());
    for (size_t i = 0; i < neg.size(); ++i) neg[i] = -d.zacc[i];
    BILEARN_CHECK(VecMAXPY(x, d.s, neg.data(), d.space.u()));
  }
  d.in_solve = false;
  const bool finite = ksp->reason != KSP_DIVERGED_NANORINF;
  // (with a preconditioner only for the unpreconditioned norm, the one the check compares with)
  const bool comparable =
      d.preconditioned ? ksp->normtype == KSP_NORM_UNPRECONDITIONED : ksp->normtype != KSP_NORM_NONE;
  if (d.s > 0 && d.opt.check && finite && comparable) {
    // A stale or inaccurate C would show here: the residual of the corrected x, computed directly.
    BILEARN_CHECK(KSP_MatMult(ksp, a, x, scratch));
    BILEARN_CHECK(VecAYPX(scratch, -1.0, ksp->vec_rhs));
    PetscReal tn = 0, bn = 0;
    BILEARN_CHECK(VecNormBegin(scratch, NORM_2, &tn));
    BILEARN_CHECK(VecNormBegin(ksp->vec_rhs, NORM_2, &bn));
    BILEARN_CHECK(VecNormEnd(scratch, NORM_2, &tn));
    BILEARN_CHECK(VecNormEnd(ksp->vec_rhs, NORM_2, &bn));
    ++d.info.check_applies;
    d.info.true_residual = tn;
    const PetscReal bound = 10.0 * std::max<PetscReal>(ksp->rnorm, 1e-12 * bn);
    if (!(tn <= bound)) {
      std::ostringstream msg;
      msg << "recycled solve failed its true-residual check (||b - Hx|| = " << tn << ", estimate " << ksp->rnorm
          << "): space discarded, solving again without it";
      note(ksp, d, msg.str());
      ++d.total_resets;
      d.space.reset();
      d.updater.abort();
      d.pupdater.abort();
      d.updater.drop_nsc();
      return false;
    }
  }
  if (d.opt.k > 0) {
    log::ScopedEvent ev(log::events().recycle_update);
    bool built = false;
    if (d.preconditioned) {
      if (update && finite)
        built = d.pupdater.finish();
      else
        d.pupdater.abort();
      if (built) {
        d.space.adopt(d.pupdater.candidate(), d.pupdater.candidate_hu(), d.pupdater.candidate_dim(), true, a);
        d.space.set_metric(d.pupdater.candidate_metric());
      }
    } else if (update && finite) {
      built = d.updater.finish(next, scale);
    } else {
      d.updater.abort();
    }
    if (built) {
      if (!d.preconditioned)
        d.space.adopt(d.updater.candidate(), d.updater.candidate_hu(), d.updater.candidate_dim(),
                      d.updater.candidate_hu_valid(), a);
    } else if (!finite) {
      d.space.reset();
      d.updater.drop_nsc();
      ++d.total_resets;
      note(ksp, d, "recycle space discarded after a NaN/Inf in the solve");
    } else {
      d.space.keep_after_solve(a, d.split_fixed);
    }
    d.solves_since_update = built ? 0 : d.solves_since_update + 1;
    if (d.split_fixed && d.split_varying)
      d.info.varying_applies += d.space.convert_to_fixed(d.split_fixed, d.split_varying, scratch);
    d.info.cycles = d.preconditioned ? d.pupdater.cycles() : d.updater.stats().cycles;
    d.info.j_applies = d.preconditioned ? 0 : d.updater.stats().j_applies;
  }
  d.info.next_dim = d.space.dim();
  if (d.opt.verbose)
    BILEARN_CHECK(PetscPrintf(comm_of(ksp),
                              "%s: %" PetscInt_FMT " its (%s), space %" PetscInt_FMT " (C from %s, %" PetscInt_FMT
                              " dropped), next %" PetscInt_FMT ", %" PetscInt_FMT " cycles, applies H %" PetscInt_FMT
                              " R %" PetscInt_FMT " J %" PetscInt_FMT " check %" PetscInt_FMT "\n",
                              d.type_name, ksp->its, KSPConvergedReasons[ksp->reason], d.info.dim, d.info.source,
                              d.info.dropped, d.info.next_dim, d.info.cycles, d.info.operator_applies,
                              d.info.varying_applies, d.info.j_applies, d.info.check_applies));
  return true;
}

}  // namespace bilearn::krylov
