#include "bilearn/driver/reconstruction_snapshot.hpp"

#include <algorithm>

#include "bilearn/core/error.hpp"
#include "bilearn/driver/report.hpp"

namespace bilearn {
namespace {

// Gathers one image per pictured sample (truth or x̂) onto world rank 0. Each sample lives in
// one group, whose rank 0 gathers it in natural order and reduces it; every other rank adds
// zeros to the sum over the world, so the sum is that group's values exactly.
std::vector<GreyImage> gather_images(Workspace& ws, PetscInt pictures, bool truth) {
  const int n = static_cast<int>(ws.grid->n());
  const GreyImage shape = reduced_image(std::vector<double>(static_cast<size_t>(n) * n, 0.0), n, n,
                                        reconstruction_tile);  // the reduced size every rank expects
  const size_t slot = 2 + shape.values.size();
  std::vector<double> buffer(static_cast<size_t>(pictures) * slot, 0.0);
  int group_rank = 0, world_rank = 0;
  MPI_Comm_rank(ws.grid->comm(), &group_rank);
  MPI_Comm_rank(PETSC_COMM_WORLD, &world_rank);
  for (SampleState& s : ws.bilevel->samples()) {
    if (s.index >= pictures) continue;
    const std::vector<PetscScalar> natural = ws.grid->gather_natural(truth ? s.truth : static_cast<Vec>(s.x_hat));
    if (group_rank != 0) continue;
    const GreyImage g = reduced_image(std::vector<double>(natural.begin(), natural.end()), n, n, reconstruction_tile);
    double* out = &buffer[static_cast<size_t>(s.index) * slot];
    out[0] = g.min;
    out[1] = g.max;
    std::copy(g.values.begin(), g.values.end(), out + 2);
  }
  if (world_rank == 0)
    MPI_Reduce(MPI_IN_PLACE, buffer.data(), static_cast<int>(buffer.size()), MPI_DOUBLE, MPI_SUM, 0, PETSC_COMM_WORLD);
  else
    MPI_Reduce(buffer.data(), nullptr, static_cast<int>(buffer.size()), MPI_DOUBLE, MPI_SUM, 0, PETSC_COMM_WORLD);
  std::vector<GreyImage> images;
  if (world_rank != 0) return images;
  for (PetscInt k = 0; k < pictures; ++k) {
    GreyImage g = shape;
    const double* in = &buffer[static_cast<size_t>(k) * slot];
    g.min = in[0];
    g.max = in[1];
    std::copy(in + 2, in + slot, g.values.begin());
    images.push_back(std::move(g));
  }
  return images;
}

}  // namespace

ReconstructionSnapshot snapshot_reconstructions(Workspace& ws, PetscInt pictures) {
  ReconstructionSnapshot s;
  const PetscInt count = std::min(pictures, ws.bilevel->total_samples());
  s.truth = gather_images(ws, count, true);
  s.reconstruction = gather_images(ws, count, false);
  s.psnr = gather_sample_report(ws).psnr;
  return s;
}

std::vector<ReconstructionRow> reconstruction_rows(const ReconstructionSnapshot& initial,
                                                   const ReconstructionSnapshot& learned) {
  std::vector<ReconstructionRow> rows;
  const size_t count = std::min(initial.reconstruction.size(), learned.reconstruction.size());
  for (size_t k = 0; k < count; ++k) {
    ReconstructionRow r;
    r.sample = static_cast<int>(k);
    r.truth = learned.truth[k];
    r.initial = initial.reconstruction[k];
    r.learned = learned.reconstruction[k];
    r.psnr_initial = initial.psnr.at(k);
    r.psnr_learned = learned.psnr.at(k);
    rows.push_back(std::move(r));
  }
  return rows;
}

std::string write_reconstruction_figure(MPI_Comm comm, const std::string& path,
                                        const std::vector<ReconstructionRow>& rows) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string lines;
  Figure figure;
  if (rank == 0 && !rows.empty()) {
    figure = reconstruction_figure(rows);
    for (const ReconstructionRow& r : rows) {
      const auto t = reconstruction_titles(r);
      lines += "  " + t[0] + " | " + t[1] + " | " + t[2] + "\n";
    }
  }
  write_figure_png(comm, path, figure);
  return lines;
}

}  // namespace bilearn
