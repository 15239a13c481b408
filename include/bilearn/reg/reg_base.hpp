// Shared part of the regulariser implementations: θ storage with length checks and the
// "what does θ mean" text used by -help and by error messages. Internal to src/reg/.
#pragma once
#include <string>
#include <vector>

#include "bilearn/reg/regulariser.hpp"

namespace bilearn {

constexpr PetscReal kLn10 = 2.302585092994045684017991454684364208;

// out[i] = Σ_ranks in[i] (one MPI_Allreduce; in and out may not alias). Collective.
void sum_reduce(MPI_Comm comm, const PetscReal* in, PetscReal* out, size_t count);

class RegulariserBase : public Regulariser {
 public:
  PetscInt num_params() const override { return static_cast<PetscInt>(theta_.size()); }
  const std::vector<PetscReal>& theta() const override { return theta_; }
  // Checks the length (InputError "θ has 3 values, <requirement>") and finiteness
  // (NumericalError: a NaN θ comes from an optimiser, not from the user), stores
  // θ and calls on_theta_changed().
  void set_theta(const std::vector<PetscReal>& theta) override;

  // e.g. "foe with 8 filters needs 8: log10 w_1..w_8" (completes "-reg_theta has n values, ").
  virtual std::string theta_requirement() const = 0;
  // One line for -help: what each θ entry means, e.g. "log10 w, log10 gamma".
  virtual std::string theta_summary() const = 0;
  // Lets a type accept a shorter -reg_theta (foe with learnable filters: weights only).
  virtual std::vector<PetscReal> expand_theta(const std::vector<PetscReal>& theta) const { return theta; }

 protected:
  // Called after θ changed; the subclass updates derived values (weights, γ) and forgets
  // its linearisation.
  virtual void on_theta_changed() = 0;
  std::vector<PetscReal> theta_;  // the subclass sets the initial (default) θ
};

}  // namespace bilearn
