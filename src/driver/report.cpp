#include "bilearn/driver/report.hpp"

#include <sys/stat.h>

#include <cstdio>
#include <sstream>

#include "bilearn/core/error.hpp"
#include "bilearn/io/png.hpp"

namespace bilearn {

SampleReport gather_sample_report(Workspace& ws) {
  const PetscInt total = ws.bilevel->total_samples();
  SampleReport r;
  r.loss.assign(static_cast<size_t>(total), 0.0);
  r.psnr.assign(static_cast<size_t>(total), 0.0);
  for (const auto& s : ws.bilevel->samples()) {
    r.loss[static_cast<size_t>(s.index)] = s.loss;
    r.psnr[static_cast<size_t>(s.index)] = s.psnr;
  }
  ws.bilevel->sum_over_groups(r.loss);
  ws.bilevel->sum_over_groups(r.psnr);
  return r;
}

void write_reconstruction_pngs(Workspace& ws, const std::string& dir, const std::string& stem, PetscInt max_samples,
                               bool with_truth) {
  char name[64];
  for (auto& s : ws.bilevel->samples()) {
    if (s.index >= max_samples) continue;
    std::snprintf(name, sizeof(name), "%s_%03d.png", stem.c_str(), (int)s.index);
    write_image_png(ws.grid->comm(), dir + "/" + name, *ws.grid, s.x_hat);
    if (with_truth) {
      std::snprintf(name, sizeof(name), "truth_%03d.png", (int)s.index);
      write_image_png(ws.grid->comm(), dir + "/" + name, *ws.grid, s.truth);
    }
  }
}

EvaluationStats reduce_stats(const Workspace& ws, const EvaluationStats& local) {
  EvaluationStats total = local;
  PetscInt counts[5] = {local.lower_iterations, local.krylov_iterations, local.hessian_products, local.mixed_products,
                        local.gradient_steps};
  PetscInt sums[5];
  MPI_Allreduce(counts, sums, 5, MPIU_INT, MPI_SUM, ws.groups.across_groups);
  total.lower_iterations = sums[0];
  total.krylov_iterations = sums[1];
  total.hessian_products = sums[2];
  total.mixed_products = sums[3];
  total.gradient_steps = sums[4];
  PetscReal held[7] = {local.lower_seconds,
                       local.krylov_seconds,
                       local.mixed_seconds,
                       local.stored_mb,
                       local.gradient_step,
                       local.lipschitz,
                       static_cast<PetscReal>(local.stored_vectors)};
  PetscReal maxima[7];
  MPI_Allreduce(held, maxima, 7, MPIU_REAL, MPI_MAX, PETSC_COMM_WORLD);
  total.lower_seconds = maxima[0];
  total.krylov_seconds = maxima[1];
  total.mixed_seconds = maxima[2];
  total.stored_mb = maxima[3];
  total.gradient_step = maxima[4];
  total.lipschitz = maxima[5];
  total.stored_vectors = static_cast<PetscInt>(maxima[6]);
  return total;
}

void add_evaluation_fields(nlohmann::json& j, const std::vector<PetscReal>& theta, PetscReal loss,
                           const EvaluationStats& stats, const SampleReport& samples) {
  j["theta"] = theta;
  j["upper_loss"] = loss;
  j["krylov_iterations_total"] = stats.krylov_iterations;
  j["lower_iterations_total"] = stats.lower_iterations;
  j["hessian_products_total"] = stats.hessian_products;
  j["mixed_products_total"] = stats.mixed_products;
  j["gradient_steps_total"] = stats.gradient_steps;
  j["stored_iterates"] = stats.stored_vectors;
  j["stored_iterates_mb_max_rank"] = stats.stored_mb;
  j["gradient_step"] = stats.gradient_step;
  j["lipschitz_estimate"] = stats.lipschitz;
  j["seconds"] = {{"lower", stats.lower_seconds}, {"krylov", stats.krylov_seconds}, {"mixed", stats.mixed_seconds}};
  j["sample_loss"] = samples.loss;
  j["sample_psnr"] = samples.psnr;
  PetscReal mean = 0;
  for (PetscReal p : samples.psnr) mean += p;
  j["psnr_mean"] = samples.psnr.empty() ? 0.0 : mean / static_cast<PetscReal>(samples.psnr.size());
}

void add_operator_fields(nlohmann::json& j, const OperatorStorage& storage) {
  j["operator_transpose_stored"] = storage.transpose_stored;
  j["matrix_mb_max_rank"] = storage.matrix_mb_max_rank;
  j["transpose_mb_max_rank"] = storage.transpose_mb_max_rank;
}

std::string format_theta(const std::vector<PetscReal>& theta) {
  std::ostringstream os;
  os.precision(6);
  for (size_t i = 0; i < theta.size(); ++i) os << (i ? "," : "") << theta[i];
  return os.str();
}

}  // namespace bilearn
