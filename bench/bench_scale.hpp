// Internal to `bilearn bench scale` (bench/bench_scale.cpp runs the command, bench/bench_scale_rows.cpp
// measures the rows of one configuration): the four rows of one image size N, measured on a
// workspace built while one configuration's options were in force.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bilearn/driver/workspace.hpp"
#include "bilearn/outer/outer_options.hpp"

namespace bilearn::scale {

// The rows, in the order they run: a cold lower solve (x = 0), a warm one (from the cold
// solution, θ shifted), one hypergradient from x = 0 (its lower solve included) and a short
// training run from x = 0.
constexpr int kRows = 4;
const char* row_name(int row);   // cold_lower | warm_lower | hypergradient | train (JSON, -bench_scale_old_rows)
const char* row_label(int row);  // the table's label

struct RowResult {
  bool ran = false;
  std::string error;           // non-empty: the row failed (a collective exception) with this message
  double seconds = 0;          // wall time of the fastest repeat (slowest rank)
  double first_seconds = 0;    // of the first repeat (the first row of a run also sets up PC circulant's kernel)
  double cpu_seconds = 0;      // CPU time of that repeat, max over ranks: less sensitive than wall time to a
                               // machine shared with other jobs (Open MPI's waits spin, so they count)
  PetscInt newton = 0;         // lower-level Newton iterations (continuation stage included)
  PetscInt newton_krylov = 0;  // Krylov iterations inside the Newton solves
  PetscInt hyper_krylov = 0;   // hypergradient Krylov iterations
  PetscInt h_products = 0;     // products with H (the objective's counter: Newton and hypergradient KSPs)
  PetscInt f_products = 0;     // products with F = AᵀA + εI alone (PC circulant set-up)
  PetscInt r_products = 0;     // products with the regulariser Hessian alone
  PetscInt pc_applies = 0;     // PC circulant applications (Newton and hypergradient KSPs)
  double lower_seconds = 0, krylov_seconds = 0, mixed_seconds = 0;  // split of the fastest repeat
  double rss_mb = 0;                // peak resident set size during the row, max over ranks (MiB)
  bool rss_reset = false;           // false: the peak could not be reset, rss_mb is the process's peak so far
  PetscReal loss = 0;               // upper loss L at the row's end (train: at the final θ)
  std::vector<PetscReal> gradient;  // hypergradient row: ∇L
  std::vector<PetscReal> theta;     // train row: the final θ
  PetscInt outer_iterations = 0, backtracks = 0;  // train row
  nlohmann::json to_json() const;
};

struct RowPlan {
  PetscInt repeat = 1;          // -bench_repeat: every row this many times, fastest time kept
  PetscInt train_steps = 3;     // -bench_scale_train_steps
  PetscReal warm_shift = 0.05;  // θ of the warm solve: θ0 + this in every entry
  bool run[kRows] = {true, true, true, true};
  std::string tag;     // "N = 256, new": progress lines and errors name the row by it
  OuterOptions outer;  // of the training row (max_it = train_steps)
};

// Measures the rows plan.run selects on ws (one sample group), at ws.initial_theta. The
// estimator and the samples' warm starts are replaced on the way. Collective.
std::vector<RowResult> measure_rows(Workspace& ws, const RowPlan& plan);

}  // namespace bilearn::scale
