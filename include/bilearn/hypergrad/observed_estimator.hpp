// A decorator of an estimator that reports every hypergradient system H w = x̂ − x† the
// evaluation solved (the sample, θ and the right-hand side; the sample's x̂ is the
// linearisation point). `bench recycle` records a training run's sequence with it; the
// estimator itself knows nothing of being observed.
#pragma once
#include <functional>
#include <memory>

#include "bilearn/hypergrad/estimator.hpp"

namespace bilearn {

class ObservedEstimator : public HypergradientEstimator {
 public:
  using Observer = std::function<void(const SampleState& s, const std::vector<PetscReal>& theta, Vec rhs)>;
  ObservedEstimator(std::unique_ptr<HypergradientEstimator> inner, Observer observer)
      : inner_(std::move(inner)), observer_(std::move(observer)) {}

  std::string name() const override { return inner_->name(); }
  void set_from_options(MPI_Comm comm, const std::string& prefix) override { inner_->set_from_options(comm, prefix); }
  void set_up() override { inner_->set_up(); }
  void view(PetscViewer viewer) const override { inner_->view(viewer); }
  KSP sample_ksp(SampleProblem& problem, const SampleState& s) override { return inner_->sample_ksp(problem, s); }
  KSP existing_sample_ksp(const SampleState& s) const override { return inner_->existing_sample_ksp(s); }
  void set_krylov_rtol(PetscReal rtol) override { inner_->set_krylov_rtol(rtol); }

  // The inner evaluation, then one report per active sample whose system was solved.
  UpperEvaluation evaluate(SampleProblem& problem, const std::vector<PetscReal>& theta, bool need_gradient) override;

  // Stops (null) or changes the reports.
  void set_observer(Observer observer) { observer_ = std::move(observer); }

 private:
  std::unique_ptr<HypergradientEstimator> inner_;
  Observer observer_;
  OwnedVec rhs_;
};

}  // namespace bilearn
