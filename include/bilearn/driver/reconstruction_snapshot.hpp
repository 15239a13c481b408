// reconstructions.png of a training run: the truth, initial and learned reconstructions of the
// first few samples side by side (io/reconstruction_figure.hpp). A snapshot holds the images
// of one θ, gathered right after the reconstructions at that θ were computed.
#pragma once
#include <string>
#include <vector>

#include "bilearn/driver/workspace.hpp"
#include "bilearn/io/reconstruction_figure.hpp"

namespace bilearn {

struct ReconstructionSnapshot {
  std::vector<GreyImage> truth, reconstruction;  // samples 0 … pictures−1; world rank 0 only
  std::vector<PetscReal> psnr;                   // every sample's PSNR (dB), on every rank
};

// Gathers the truth and the current reconstruction x̂ of samples 0 … pictures−1 (reduced to at
// most reconstruction_tile pixels a side) onto world rank 0, and every sample's PSNR. Collective
// over the world communicator.
ReconstructionSnapshot snapshot_reconstructions(Workspace& ws, PetscInt pictures);

// The rows of the figure (world rank 0; empty elsewhere): truth of `learned`, initial and
// learned reconstructions with their PSNRs.
std::vector<ReconstructionRow> reconstruction_rows(const ReconstructionSnapshot& initial,
                                                   const ReconstructionSnapshot& learned);

// Collective: rank 0 draws the rows into path (atomically) and returns one line per row with
// the titles drawn, indented by two spaces ("  sample 0: truth | initial: PSNR 21.37 dB | learned: PSNR 25.08 dB";
// empty on other ranks). Throws InputError on every rank if it cannot be written.
std::string write_reconstruction_figure(MPI_Comm comm, const std::string& path,
                                        const std::vector<ReconstructionRow>& rows);

}  // namespace bilearn
