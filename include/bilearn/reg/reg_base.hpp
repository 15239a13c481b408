// Shared part of the regulariser implementations: θ checks, the "what does θ mean" text used
// by -help and by error messages, and the θ-explicit interface on top of the types' kernels.
// A type implements the *_at kernels at the θ it was last bound to (on_theta_changed derives
// its weights); the public functions bind the θ they are given first, and the products bind
// the θ of the last set_point, so the binding is a cache, invisible to callers. Internal to
// src/reg/.
#pragma once
#include <string>
#include <vector>

#include "bilearn/core/options.hpp"
#include "bilearn/reg/regulariser.hpp"

namespace bilearn {

constexpr PetscReal kLn10 = 2.302585092994045684017991454684364208;

// out[i] = Σ_ranks in[i] (one MPI_Allreduce; in and out may not alias). Collective.
void sum_reduce(MPI_Comm comm, const PetscReal* in, PetscReal* out, size_t count);

class RegulariserBase : public Regulariser {
 public:
  // Life cycle (PETSc style): create (the registry, by name) → set_from_options (the type's
  // own options, -reg_<type>_*, inside the open -reg_ block) → set_up (θ's layout and default)
  // → evaluations → view (-reg_view).
  virtual void set_from_options(OptionsBlock& /*options*/) {}
  virtual void set_up() = 0;
  PetscInt num_params() const override { return static_cast<PetscInt>(theta_.size()); }
  // Before set_initial_theta: the type's default θ.
  const std::vector<PetscReal>& initial_theta() const override { return initial_.empty() ? theta_ : initial_; }
  // Length (InputError "θ has 3 values, <requirement>") and finiteness (NumericalError: a
  // NaN θ comes from an optimiser, not from the user).
  void check_theta(const std::vector<PetscReal>& theta) const override;
  // Sets the initial θ (checked): create_regulariser after -reg_theta.
  void set_initial_theta(const std::vector<PetscReal>& theta);
  void view(PetscViewer viewer) const override;

  PetscReal value(Vec x, const std::vector<PetscReal>& theta) override;
  void gradient(Vec x, const std::vector<PetscReal>& theta, Vec g) override;
  std::vector<PetscReal> theta_gradient(Vec x, const std::vector<PetscReal>& theta) override;
  void set_point(Vec x, const std::vector<PetscReal>& theta) override;
  void hessian_mult(Vec v, Vec y) override;
  void hessian_diagonal(Vec d) override;
  void mixed_mult(Vec v, std::vector<PetscReal>& Jv) override;
  void mixed_mult_transpose(const std::vector<PetscReal>& w, Vec y) override;

  // e.g. "foe with 8 filters needs 8: log10 w_1..w_8" (completes "-reg_theta has n values, ").
  virtual std::string theta_requirement() const = 0;
  // One line for -help: what each θ entry means, e.g. "log10 w, log10 gamma".
  virtual std::string theta_summary() const = 0;
  // Lets a type accept a shorter -reg_theta (foe with learnable filters: weights only).
  virtual std::vector<PetscReal> expand_theta(const std::vector<PetscReal>& theta) const { return theta; }

 protected:
  // The type's options for -reg_view (one line each, e.g. "gamma = 0.01"); default none.
  virtual std::vector<std::string> view_lines() const { return {}; }
  // Kernels at the bound θ (theta_).
  virtual PetscReal value_at(Vec x) = 0;
  virtual void gradient_at(Vec x, Vec g) = 0;
  virtual std::vector<PetscReal> theta_gradient_at(Vec x) = 0;
  virtual void set_point_at(Vec x) = 0;
  virtual void hessian_mult_at(Vec v, Vec y) = 0;
  virtual void hessian_diagonal_at(Vec d) = 0;
  virtual void mixed_mult_at(Vec v, std::vector<PetscReal>& Jv) = 0;
  virtual void mixed_mult_transpose_at(const std::vector<PetscReal>& w, Vec y) = 0;
  // Called after the bound θ changed; the subclass updates derived values (weights, γ) and
  // forgets its linearisation.
  virtual void on_theta_changed() = 0;
  // The bound θ; a subclass sets its default layout in its constructor (also the initial θ).
  std::vector<PetscReal> theta_;

 private:
  void bind(const std::vector<PetscReal>& theta);
  void bind_point_theta();
  std::vector<PetscReal> initial_;
  std::vector<PetscReal> point_theta_;  // θ of the last set_point
};

}  // namespace bilearn
