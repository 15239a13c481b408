// PC type "circulant" (include/bilearn/krylov/pc_circulant.h; docs/algorithms.md §4.5):
//   M⁻¹ v = g ⊙ crop(F⁻¹(F(pad(g ⊙ v)) / L)),  L = max(Λ_F, ν) + Λ_R, floored at c·max L,
//   ν = max(c·max Λ_F, −min Λ_F): the size of Λ_F's negative lobes (tomography N = 64, foe:
//   93/238 CG iterations with ν, 219/238 with the bare 1e-8·max floor),
//   g = (diag(Pmat) / mean L)^(−1/2)  (Fessler–Booth diagonal scaling; mean L is the constant
//   diagonal of the circulant, so g ≈ 1 where H's diagonal is typical).
#include "bilearn/krylov/pc_circulant.h"

#include <petsc/private/pcimpl.h>
#include <petscdmda.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "krylov/circulant/fourier_grid.hpp"
#include "krylov/circulant/impulse_kernels.hpp"

namespace bilearn::krylov {
namespace {

enum class KernelMode { corners, centre, diagonal };
enum class Curvature { comb, exact };
const char* const kKernelNames[] = {"corners", "centre", "diagonal", "PCCirculantKernel", "PC_CIRCULANT_", nullptr};
const char* const kBoundaryNames[] = {"zero", "periodic", "PCCirculantBoundary", "PC_CIRCULANT_", nullptr};
const char* const kScalingNames[] = {"diagonal", "none", "PCCirculantScaling", "PC_CIRCULANT_", nullptr};
const char* const kCurvatureNames[] = {"comb", "exact", "PCCirculantCurvature", "PC_CIRCULANT_", nullptr};

PetscLogEvent g_apply_event = 0, g_setup_event = 0;

struct Circulant {
  // options
  KernelMode kernel = KernelMode::corners;
  bool kernel_chosen = false;  // -pc_circulant_kernel was given: defaults do not override it
  bool periodic = false;
  bool scaling = true;
  Curvature curvature = Curvature::comb;
  PetscInt radius = -1;  // -1: 2 × the DMDA's stencil width
  PetscInt reach = -1;   // offsets of the fixed kernel beyond this (max over the axes) dropped; 0: none;
                         // -1: the default (reach_in_use)
  PetscReal clip = 1e-8;
  // what it acts on
  DM dm = nullptr;  // referenced
  Mat fixed = nullptr, varying = nullptr;  // referenced; null: no split
  std::string fixed_key;                   // names `fixed` for the symbol store ("": none)
  PCCirculantSymbolStore store{};          // where Λ_F may be kept beyond this PC
  // state
  std::unique_ptr<FourierGrid> grid;
  std::vector<PetscReal> fixed_symbol, varying_symbol, multiplier;
  PetscObjectState fixed_state = -1, varying_state = -1;
  Mat fixed_seen = nullptr, varying_seen = nullptr;
  OwnedVec scale, work;
  PCCirculantInfo info{};
};

Circulant& data(PC pc) {
  return *static_cast<Circulant*>(pc->data);
}

// The reach of the fixed kernel on c's grid: -pc_circulant_kernel_reach, or by default
// max(64, side / 4) pixels (docs/algorithms.md §4.5, "Reach"; measured best: the full range at
// N = 64, 64 at N = 128 and 256, 128 at N = 512). c.grid must exist.
PetscInt reach_in_use(const Circulant& c) {
  if (c.reach >= 0) return c.reach;
  return std::max<PetscInt>(64, std::max(c.grid->rows(), c.grid->cols()) / 4);
}

MPI_Comm comm_of(PC pc) {
  return PetscObjectComm((PetscObject)pc);
}

void replace(Mat& slot, Mat m) {
  if (m) BILEARN_CHECK(PetscObjectReference((PetscObject)m));
  if (slot) BILEARN_CHECK(MatDestroy(&slot));
  slot = m;
}

DM grid_dm(PC pc, Circulant& c) {
  DM dm = c.dm ? c.dm : pc->dm;
  PetscBool is_da = PETSC_FALSE;
  if (dm) BILEARN_CHECK(PetscObjectTypeCompare((PetscObject)dm, DMDA, &is_da));
  require(dm && is_da,
          "PC circulant needs the image grid: a 2-D DMDA given with PCCirculantSetDM or PCSetDM (bilearn's solvers "
          "set it)");
  return dm;
}

PetscInt comb_radius(DM dm, const Circulant& c) {
  if (c.radius >= 0) return c.radius;
  PetscInt width = 0;
  BILEARN_CHECK(DMDAGetInfo(dm, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, &width,
                            nullptr, nullptr, nullptr, nullptr));
  return 2 * width;
}

// Λ of the long-range part (F, or the whole Pmat without a split): the DFT of its kernel.
std::vector<PetscReal> long_range_symbol(Circulant& c, Mat a, DM dm) {
  FourierGrid& g = *c.grid;
  const PetscInt ny = g.rows(), nx = g.cols();
  if (c.kernel == KernelMode::diagonal) {
    OwnedVec d;
    BILEARN_CHECK(MatCreateVecs(a, d.out(), nullptr));
    BILEARN_CHECK(MatGetDiagonal(a, d));
    PetscScalar sum;
    BILEARN_CHECK(VecSum(d, &sum));
    const PetscReal mean = PetscRealPart(sum) / static_cast<PetscReal>(nx * ny);
    return g.symbol([mean](PetscInt r, PetscInt col) { return r == 0 && col == 0 ? mean : 0.0; });
  }
  std::vector<Pixel> impulses;
  if (c.periodic) {
    impulses = {{0, 0}};
  } else if (c.kernel == KernelMode::centre) {
    impulses = {{ny / 2, nx / 2}};
  } else {
    impulses = {{0, 0}, {0, nx - 1}, {ny - 1, 0}, {ny - 1, nx - 1}};
  }
  const LongKernel k = impulse_response_kernel(a, dm, g, impulses, g.first_row(), g.local_rows(), c.info.fixed_products);
  const PetscInt m0 = g.m0(), m1 = g.m1();
  // The kernel is cut at `reach` pixels (docs/algorithms.md §4.5, "Reach"): AᵀA's far ~1/r tail
  // only made the preconditioner worse (N = 256: 757 → 554 PCG iterations at a reach of 64).
  const PetscInt reach = reach_in_use(c);
  return g.symbol([&](PetscInt r, PetscInt col) {
    const PetscInt d0 = r <= m0 / 2 ? r : r - m0;
    const PetscInt d1 = col <= m1 / 2 ? col : col - m1;
    if (reach > 0 && std::max(std::abs(d0), std::abs(d1)) > reach) return 0.0;
    return k.at(r, col, m1);
  });
}

std::vector<PetscReal> short_range_symbol(Circulant& c, Mat a, DM dm) {
  const PetscInt r = comb_radius(dm, c);
  const std::vector<PetscReal> k =
      comb_kernel(a, dm, c.periodic, r, c.curvature == Curvature::exact, c.info.varying_products);
  FourierGrid& g = *c.grid;
  const PetscInt m0 = g.m0(), m1 = g.m1(), s = 2 * r + 1;
  return g.symbol([&](PetscInt row, PetscInt col) {
    const PetscInt d0 = row <= m0 / 2 ? row : row - m0;
    const PetscInt d1 = col <= m1 / 2 ? col : col - m1;
    if (std::abs(d0) > r || std::abs(d1) > r) return 0.0;
    return k[static_cast<size_t>((d0 + r) * s + d1 + r)];
  });
}

PetscReal global_max(MPI_Comm comm, const std::vector<PetscReal>& v) {
  PetscReal local = v.empty() ? -PETSC_MAX_REAL : *std::max_element(v.begin(), v.end()), out = 0;
  MPI_Allreduce(&local, &out, 1, MPIU_REAL, MPI_MAX, comm);
  return out;
}

PetscReal global_min(MPI_Comm comm, const std::vector<PetscReal>& v) {
  PetscReal local = v.empty() ? PETSC_MAX_REAL : *std::min_element(v.begin(), v.end()), out = 0;
  MPI_Allreduce(&local, &out, 1, MPIU_REAL, MPI_MIN, comm);
  return out;
}

PetscObjectState state_of(Mat m) {
  PetscObjectState s = 0;
  BILEARN_CHECK(PetscObjectStateGet((PetscObject)m, &s));
  return s;
}

// The store's name of Λ_F as this PC estimates it: F's key and everything of the PC the estimate
// depends on (the grid's size; its layout over the ranks is F's key's business).
std::string stored_symbol_key(const Circulant& c) {
  if (c.fixed_key.empty()) return "";
  char clip[64];
  std::snprintf(clip, sizeof clip, "%a", static_cast<double>(c.clip));
  return c.fixed_key + " | pc_circulant kernel=" + kKernelNames[static_cast<int>(c.kernel)] +
         " boundary=" + kBoundaryNames[c.periodic ? 1 : 0] + " clip=" + clip + " reach=" + std::to_string(reach_in_use(c)) +
         " grid=" + std::to_string(c.grid->m0()) +
         "x" + std::to_string(c.grid->m1());
}

// Λ_F from the store into c.fixed_symbol; false (on every rank) when it does not hold it.
bool find_stored_symbol(MPI_Comm comm, Circulant& c, const std::string& key) {
  std::vector<PetscReal> symbol(c.grid->spectral_size());
  PetscBool found = PETSC_FALSE;
  BILEARN_CHECK(c.store.find(comm, key.c_str(), static_cast<PetscInt>(symbol.size()), symbol.data(), &found));
  if (!found) return false;
  c.fixed_symbol = std::move(symbol);
  ++c.info.fixed_stored;
  return true;
}

PetscErrorCode setup(PC pc) {
  return guarded(comm_of(pc), __func__, [&] {
    Circulant& c = data(pc);
    log::ScopedEvent event(g_setup_event, (PetscObject)pc);
    DM dm = grid_dm(pc, c);
    if (!c.grid || c.grid->periodic() != c.periodic) {
      c.grid = std::make_unique<FourierGrid>(dm, c.periodic);
      c.fixed_seen = c.varying_seen = nullptr;
    }
    const MPI_Comm comm = comm_of(pc);
    Mat fixed = c.fixed ? c.fixed : pc->pmat;
    if (fixed != c.fixed_seen || state_of(fixed) != c.fixed_state) {
      // Only F of a declared split has a name in the store (a whole Pmat changes with the point).
      const std::string key = c.fixed && c.store.find ? stored_symbol_key(c) : std::string();
      if (key.empty() || !find_stored_symbol(comm, c, key)) {
        c.fixed_symbol = long_range_symbol(c, fixed, dm);
        // The estimated kernel is not exactly shift-invariant (ray sampling aliases at the highest
        // frequencies), so its symbol has negative lobes; values below their size are noise.
        const PetscReal noise = -std::min(global_min(comm, c.fixed_symbol), 0.0);
        const PetscReal floor = std::max(c.clip * global_max(comm, c.fixed_symbol), noise);
        for (PetscReal& s : c.fixed_symbol) s = std::max(s, floor);
        ++c.info.fixed_setups;
        if (!key.empty())
          BILEARN_CHECK(
              c.store.keep(comm, key.c_str(), static_cast<PetscInt>(c.fixed_symbol.size()), c.fixed_symbol.data()));
      }
      c.fixed_seen = fixed;
      c.fixed_state = state_of(fixed);
    }
    if (c.fixed && c.varying && (c.varying != c.varying_seen || state_of(c.varying) != c.varying_state)) {
      c.varying_symbol = short_range_symbol(c, c.varying, dm);
      c.varying_seen = c.varying;
      c.varying_state = state_of(c.varying);
      ++c.info.varying_setups;
    }
    if (!(c.fixed && c.varying)) c.varying_symbol.assign(c.fixed_symbol.size(), 0.0);

    std::vector<PetscReal> l(c.fixed_symbol.size());
    for (size_t k = 0; k < l.size(); ++k) l[k] = c.fixed_symbol[k] + c.varying_symbol[k];
    const PetscReal floor = c.clip * global_max(comm, l);
    require(floor > 0, "PC circulant: the operator's symbol is not positive anywhere (is H positive definite?)");
    for (PetscReal& s : l) s = std::max(s, floor);
    c.info.symbol_min = global_min(comm, l);
    c.info.symbol_max = global_max(comm, l);
    const PetscReal mean = c.grid->spectral_mean(l);
    const PetscReal n_grid = static_cast<PetscReal>(c.grid->m0()) * static_cast<PetscReal>(c.grid->m1());
    c.multiplier.resize(l.size());
    for (size_t k = 0; k < l.size(); ++k) c.multiplier[k] = 1.0 / (l[k] * n_grid);
    c.info.grid_rows = c.grid->m0();
    c.info.grid_cols = c.grid->m1();

    if (!c.work) BILEARN_CHECK(DMCreateGlobalVector(dm, c.work.out()));
    c.info.clamped = 0;
    if (c.scaling) {
      PetscBool has_diagonal = PETSC_FALSE;
      BILEARN_CHECK(MatHasOperation(pc->pmat, MATOP_GET_DIAGONAL, &has_diagonal));
      require(has_diagonal,
              "PC circulant: -pc_circulant_scaling diagonal needs the operator's diagonal (MatGetDiagonal); use "
              "-pc_circulant_scaling none");
      if (!c.scale) BILEARN_CHECK(DMCreateGlobalVector(dm, c.scale.out()));
      BILEARN_CHECK(MatGetDiagonal(pc->pmat, c.scale));
      PetscInt clamped = 0, n = 0;
      BILEARN_CHECK(VecGetLocalSize(c.scale, &n));
      {
        VecArray g(c.scale);
        const PetscReal low = c.clip * mean;
        for (PetscInt i = 0; i < n; ++i) {
          PetscReal d = PetscRealPart(g[i]);
          if (!(d >= low)) {  // also catches NaN
            d = low;
            ++clamped;
          }
          g[i] = std::sqrt(mean / d);
        }
      }
      MPI_Allreduce(&clamped, &c.info.clamped, 1, MPIU_INT, MPI_SUM, comm);
    }
  });
}

PetscErrorCode apply(PC pc, Vec x, Vec y) {
  return guarded(comm_of(pc), __func__, [&] {
    Circulant& c = data(pc);
    log::ScopedEvent event(g_apply_event, (PetscObject)pc, (PetscObject)x, (PetscObject)y);
    if (c.scaling) {
      BILEARN_CHECK(VecPointwiseMult(c.work, c.scale, x));
      c.grid->filter(c.work, y, c.multiplier);
      BILEARN_CHECK(VecPointwiseMult(y, c.scale, y));
    } else {
      c.grid->filter(x, y, c.multiplier);
    }
    ++c.info.applies;
  });
}

PetscErrorCode set_from_options(PC pc, PetscOptionItems* PetscOptionsObject) {
  PetscFunctionBegin;
  Circulant& c = data(pc);
  PetscEnum kernel = static_cast<PetscEnum>(c.kernel), boundary = static_cast<PetscEnum>(c.periodic ? 1 : 0),
            scaling = static_cast<PetscEnum>(c.scaling ? 0 : 1), curvature = static_cast<PetscEnum>(c.curvature);
  PetscOptionsHeadBegin(PetscOptionsObject, "Circulant (Fourier) preconditioner options");
  PetscBool kernel_set = PETSC_FALSE;
  PetscCall(PetscOptionsEnum("-pc_circulant_kernel", "Impulse responses that define the fixed part's kernel",
                             "PCCIRCULANT", kKernelNames, kernel, &kernel, &kernel_set));
  if (kernel_set) c.kernel_chosen = true;
  PetscCall(PetscOptionsEnum("-pc_circulant_boundary", "zero: zero-padded 2N grid; periodic: the N grid",
                             "PCCIRCULANT", kBoundaryNames, boundary, &boundary, nullptr));
  PetscCall(PetscOptionsEnum("-pc_circulant_scaling", "Diagonal (Fessler-Booth) scaling", "PCCIRCULANT",
                             kScalingNames, scaling, &scaling, nullptr));
  PetscCall(PetscOptionsEnum("-pc_circulant_curvature", "Varying part's mean kernel: one comb product or exact",
                             "PCCIRCULANT", kCurvatureNames, curvature, &curvature, nullptr));
  PetscCall(PetscOptionsInt("-pc_circulant_radius", "Stencil radius of the varying part (-1: 2 x DMDA stencil width)",
                            "PCCIRCULANT", c.radius, &c.radius, nullptr));
  const PetscInt reach = c.reach;
  PetscCall(PetscOptionsInt("-pc_circulant_kernel_reach",
                            "Fixed part's kernel: offsets beyond this many pixels (along either axis) dropped (0: none; "
                            "-1: max(64, image side / 4))",
                            "PCCIRCULANT", c.reach, &c.reach, nullptr));
  PetscCall(PetscOptionsReal("-pc_circulant_clip", "Symbol floor relative to its maximum", "PCCIRCULANT", c.clip,
                             &c.clip, nullptr));
  PetscOptionsHeadEnd();
  if (c.radius < -1) SETERRQ(comm_of(pc), PETSC_ERR_ARG_OUTOFRANGE, "-pc_circulant_radius must be >= 0, got %d", (int)c.radius);
  if (c.reach < -1)
    SETERRQ(comm_of(pc), PETSC_ERR_ARG_OUTOFRANGE,
            "-pc_circulant_kernel_reach must be >= 0 (0: the full range) or -1 (the default), got %d", (int)c.reach);
  if (!(c.clip > 0 && c.clip < 1))
    SETERRQ(comm_of(pc), PETSC_ERR_ARG_OUTOFRANGE, "-pc_circulant_clip must lie in (0, 1), got %g", (double)c.clip);
  const bool periodic = boundary == 1;
  if (periodic != c.periodic || static_cast<PetscEnum>(c.kernel) != kernel || reach != c.reach ||
      static_cast<PetscEnum>(c.curvature) != curvature)
    c.fixed_seen = c.varying_seen = nullptr;  // re-estimate at the next set-up
  c.kernel = static_cast<KernelMode>(kernel);
  c.periodic = periodic;
  c.scaling = scaling == 0;
  c.curvature = static_cast<Curvature>(curvature);
  PetscFunctionReturn(0);
}

PetscErrorCode view(PC pc, PetscViewer viewer) {
  PetscFunctionBegin;
  PetscBool ascii = PETSC_FALSE;
  PetscCall(PetscObjectTypeCompare((PetscObject)viewer, PETSCVIEWERASCII, &ascii));
  if (!ascii) PetscFunctionReturn(0);
  const Circulant& c = data(pc);
  PetscCall(PetscViewerASCIIPrintf(viewer, "  kernel %s (reach %d), boundary %s, scaling %s, curvature %s, clip %g\n",
                                   kKernelNames[static_cast<int>(c.kernel)],
                                   (int)(c.grid ? reach_in_use(c) : c.reach),
                                   c.periodic ? "periodic" : "zero", c.scaling ? "diagonal" : "none",
                                   kCurvatureNames[static_cast<int>(c.curvature)], (double)c.clip));
  PetscCall(PetscViewerASCIIPrintf(viewer, "  operator split: %s\n", c.fixed && c.varying ? "fixed + varying" : "none"));
  if (c.grid)
    PetscCall(PetscViewerASCIIPrintf(viewer,
                                     "  grid %d x %d; symbol in [%g, %g]; estimates: fixed %d (%d products), "
                                     "varying %d (%d products); %d applies; %d diagonal entries clamped%s\n",
                                     (int)c.info.grid_rows, (int)c.info.grid_cols, (double)c.info.symbol_min,
                                     (double)c.info.symbol_max, (int)c.info.fixed_setups, (int)c.info.fixed_products,
                                     (int)c.info.varying_setups, (int)c.info.varying_products, (int)c.info.applies,
                                     (int)c.info.clamped, c.info.fixed_stored ? "; fixed symbol from the store" : ""));
  PetscFunctionReturn(0);
}

PetscErrorCode reset(PC pc) {
  return guarded(comm_of(pc), __func__, [&] {
    Circulant& c = data(pc);
    c.grid.reset();
    c.scale = OwnedVec();
    c.work = OwnedVec();
    c.fixed_seen = c.varying_seen = nullptr;
  });
}

PetscErrorCode destroy(PC pc) {
  return guarded(comm_of(pc), __func__, [&] {
    Circulant* c = static_cast<Circulant*>(pc->data);
    replace(c->fixed, nullptr);
    replace(c->varying, nullptr);
    if (c->dm) BILEARN_CHECK(DMDestroy(&c->dm));
    delete c;
    pc->data = nullptr;
    for (const char* name : {"PCCirculantSetDM_C", "PCCirculantSetOperatorSplit_C", "PCCirculantSetDefaultKernel_C",
                             "PCCirculantGetInfo_C", "PCCirculantSetFixedSymbolStore_C"})
      BILEARN_CHECK(PetscObjectComposeFunction((PetscObject)pc, name, nullptr));
  });
}

PetscErrorCode set_dm_impl(PC pc, DM dm) {
  return guarded(comm_of(pc), __func__, [&] {
    Circulant& c = data(pc);
    if (dm) BILEARN_CHECK(PetscObjectReference((PetscObject)dm));
    if (c.dm) BILEARN_CHECK(DMDestroy(&c.dm));
    c.dm = dm;
    c.grid.reset();
    c.work = OwnedVec();
    c.scale = OwnedVec();
  });
}

PetscErrorCode set_split_impl(PC pc, Mat fixed, Mat varying) {
  return guarded(comm_of(pc), __func__, [&] {
    Circulant& c = data(pc);
    require((fixed == nullptr) == (varying == nullptr), "PCCirculantSetOperatorSplit: give both parts or neither");
    replace(c.fixed, fixed);
    replace(c.varying, varying);
  });
}

PetscErrorCode set_default_kernel_impl(PC pc, const char kernel[]) {
  return guarded(comm_of(pc), __func__, [&] {
    Circulant& c = data(pc);
    if (c.kernel_chosen) return;
    for (int k = 0; k < 3; ++k)
      if (std::string(kernel) == kKernelNames[k]) {
        if (static_cast<int>(c.kernel) != k) c.fixed_seen = nullptr;
        c.kernel = static_cast<KernelMode>(k);
        return;
      }
    throw InputError(std::string("PC circulant: unknown kernel '") + kernel + "' (corners, centre, diagonal)");
  });
}

PetscErrorCode set_store_impl(PC pc, const char key[], const PCCirculantSymbolStore* store) {
  return guarded(comm_of(pc), __func__, [&] {
    Circulant& c = data(pc);
    const bool named = store && store->find && store->keep && key && key[0];
    c.fixed_key = named ? key : "";
    c.store = named ? *store : PCCirculantSymbolStore{};
  });
}

PetscErrorCode get_info_impl(PC pc, PCCirculantInfo* info) {
  PetscFunctionBegin;
  *info = data(pc).info;
  PetscFunctionReturn(0);
}

}  // namespace
}  // namespace bilearn::krylov

using namespace bilearn::krylov;

PetscErrorCode PCCreate_Circulant(PC pc) {
  return bilearn::guarded(PetscObjectComm((PetscObject)pc), __func__, [&] {
    if (!g_apply_event) {
      BILEARN_CHECK(PetscLogEventRegister("PCCirculantApply", PC_CLASSID, &g_apply_event));
      BILEARN_CHECK(PetscLogEventRegister("PCCirculantSetUp", PC_CLASSID, &g_setup_event));
    }
    pc->data = new Circulant();
    pc->ops->setup = setup;
    pc->ops->apply = apply;
    pc->ops->applysymmetricleft = nullptr;
    pc->ops->setfromoptions = set_from_options;
    pc->ops->view = view;
    pc->ops->reset = reset;
    pc->ops->destroy = destroy;
    BILEARN_CHECK(PetscObjectComposeFunction((PetscObject)pc, "PCCirculantSetDM_C", set_dm_impl));
    BILEARN_CHECK(PetscObjectComposeFunction((PetscObject)pc, "PCCirculantSetOperatorSplit_C", set_split_impl));
    BILEARN_CHECK(PetscObjectComposeFunction((PetscObject)pc, "PCCirculantSetDefaultKernel_C", set_default_kernel_impl));
    BILEARN_CHECK(PetscObjectComposeFunction((PetscObject)pc, "PCCirculantGetInfo_C", get_info_impl));
    BILEARN_CHECK(PetscObjectComposeFunction((PetscObject)pc, "PCCirculantSetFixedSymbolStore_C", set_store_impl));
  });
}

PetscErrorCode PCCirculantSetDM(PC pc, DM dm) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(pc, PC_CLASSID, 1);
  PetscTryMethod(pc, "PCCirculantSetDM_C", (PC, DM), (pc, dm));
  PetscFunctionReturn(0);
}

PetscErrorCode PCCirculantSetOperatorSplit(PC pc, Mat fixed, Mat varying) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(pc, PC_CLASSID, 1);
  PetscTryMethod(pc, "PCCirculantSetOperatorSplit_C", (PC, Mat, Mat), (pc, fixed, varying));
  PetscFunctionReturn(0);
}

PetscErrorCode PCCirculantSetDefaultKernel(PC pc, const char kernel[]) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(pc, PC_CLASSID, 1);
  PetscTryMethod(pc, "PCCirculantSetDefaultKernel_C", (PC, const char[]), (pc, kernel));
  PetscFunctionReturn(0);
}

PetscErrorCode PCCirculantSetFixedSymbolStore(PC pc, const char key[], const PCCirculantSymbolStore* store) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(pc, PC_CLASSID, 1);
  PetscTryMethod(pc, "PCCirculantSetFixedSymbolStore_C", (PC, const char[], const PCCirculantSymbolStore*),
                 (pc, key, store));
  PetscFunctionReturn(0);
}

PetscErrorCode PCCirculantGetInfo(PC pc, PCCirculantInfo* info) {
  PetscFunctionBegin;
  PetscValidHeaderSpecific(pc, PC_CLASSID, 1);
  PetscUseMethod(pc, "PCCirculantGetInfo_C", (PC, PCCirculantInfo*), (pc, info));
  PetscFunctionReturn(0);
}
