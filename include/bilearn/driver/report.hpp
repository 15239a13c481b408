// Shared pieces of the commands' reports: per-sample tables and the JSON fields every
// reconstruct/hypergrad/train summary carries.
#pragma once
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "bilearn/driver/workspace.hpp"

namespace bilearn {

struct SampleReport {
  std::vector<PetscReal> loss;  // ½‖x̂ − x†‖² per sample (all S, every rank)
  std::vector<PetscReal> psnr;
};

// Per-sample numbers of all groups, on every rank. Collective over the world communicator.
SampleReport gather_sample_report(Workspace& ws);

// Writes recon_<s>.png (x̂), and with truth also truth_<s>.png, for this group's samples
// into dir (at most max_samples of them). Collective.
void write_reconstruction_pngs(Workspace& ws, const std::string& dir, const std::string& stem, PetscInt max_samples,
                               bool with_truth);

// Adds theta, upper_loss, krylov/lower iteration totals and the time split.
void add_evaluation_fields(nlohmann::json& j, const std::vector<PetscReal>& theta, PetscReal loss,
                           const EvaluationStats& stats, const SampleReport& samples);

// Sums stats over the sample groups (every rank gets the totals; times: max over groups).
EvaluationStats reduce_stats(const Workspace& ws, const EvaluationStats& local);

// Adds operator_transpose_stored, matrix_mb_max_rank and transpose_mb_max_rank.
void add_operator_fields(nlohmann::json& j, const OperatorStorage& storage);

std::string format_theta(const std::vector<PetscReal>& theta);

}  // namespace bilearn
