// FUSE: first-order then second-order switch (docs/algorithms.md §5). Adam runs until, after its
// step k, any criterion holds (checked in this order, the first that holds is logged):
//   iteration  k ≥ -outer_fuse_switch_it
//   gtol       ‖∇L(θ_k)‖ ≤ -outer_fuse_gtol                         (0: off)
//   plateau    |L_k − L_{k−w}| / |L_{k−w}| ≤ -outer_fuse_ftol, w = -outer_fuse_window
// then L-BFGS (fresh memory) takes over. An L-BFGS step whose line search fails along its
// quasi-Newton direction counts as a failure (consecutive failures are counted); a step that
// fails completely is replaced by an Adam step from the same point. After
// -outer_fuse_max_failures consecutive failures FUSE falls back to Adam for good.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <deque>
#include <utility>

#include "bilearn/outer/optimizer.hpp"
#include "bilearn/outer/state_codec.hpp"

namespace bilearn {
namespace {

class Fuse : public Optimizer {
 public:
  Fuse(const OuterOptions& o, PetscInt num_samples)
      : o_(o), adam_(create_adam(o, num_samples)), lbfgs_(create_lbfgs(o)) {}

  std::string name() const override { return "fuse"; }
  std::string phase() const override { return phase_; }

  void start(Oracle& oracle) override {
    losses_.push_back(oracle.current().eval.loss);
    adam_->start(oracle);
  }

  StepOutcome step(Oracle& oracle, PetscInt iteration) override {
    if (phase_ == "lbfgs") {
      StepOutcome out = lbfgs_->step(oracle, iteration);
      for (auto& m : lbfgs_->take_messages()) note(m);
      failures_ = out.direction_failed ? failures_ + 1 : 0;
      if (failures_ >= o_.fuse_max_failures) {
        phase_ = "adam";
        fallback_iteration_ = iteration;
        note("FUSE: falling back to Adam at iteration " + std::to_string(iteration) + " after " +
             std::to_string(failures_) + " consecutive L-BFGS line-search failures");
      }
      if (out.accepted) {
        out.phase = "lbfgs";
        return out;
      }
      // Even steepest descent failed: this step is Adam's, from the same point.
      const PetscInt bt = out.backtracks;
      out = adam_->step(oracle, iteration);
      out.backtracks += bt;
      out.phase = "adam";
      return out;
    }
    StepOutcome out = adam_->step(oracle, iteration);
    out.phase = "adam";
    if (out.accepted && fallback_iteration_ < 0) check_switch(oracle, iteration);
    return out;
  }

  nlohmann::json save() const override {
    nlohmann::json losses = nlohmann::json::array();
    for (PetscReal l : losses_) losses.push_back(hex_real(l));
    return {{"phase", phase_},
            {"adam", adam_->save()},
            {"lbfgs", lbfgs_->save()},
            {"losses", losses},
            {"failures", failures_},
            {"switch_iteration", switch_iteration_},
            {"switch_criterion", criterion_},
            {"fallback_iteration", fallback_iteration_}};
  }
  void load(const nlohmann::json& s) override {
    phase_ = s.at("phase").get<std::string>();
    adam_->load(s.at("adam"));
    lbfgs_->load(s.at("lbfgs"));
    losses_.clear();
    for (const auto& l : s.at("losses")) losses_.push_back(parse_hex_real(l.get<std::string>(), "fuse losses"));
    failures_ = s.at("failures").get<PetscInt>();
    switch_iteration_ = s.at("switch_iteration").get<PetscInt>();
    criterion_ = s.at("switch_criterion").get<std::string>();
    fallback_iteration_ = s.at("fallback_iteration").get<PetscInt>();
  }
  std::vector<std::string> take_messages() override { return std::exchange(messages_, {}); }
  nlohmann::json summary() const override {
    nlohmann::json j = {{"fuse_switch_iteration", switch_iteration_},
                        {"fuse_switch_criterion", criterion_},
                        {"fuse_fallback_iteration", fallback_iteration_},
                        {"fuse_phase", phase_}};
    j.update(lbfgs_->summary());
    return j;
  }

 private:
  void check_switch(Oracle& oracle, PetscInt k) {
    const PetscReal loss = oracle.current().eval.loss;
    losses_.push_back(loss);
    while (static_cast<PetscInt>(losses_.size()) > o_.fuse_window + 1) losses_.pop_front();
    std::vector<std::string> held;
    if (k >= o_.fuse_switch_it) held.push_back("iteration");
    const PetscReal gnorm = norm2(oracle.current().eval.gradient);
    if (o_.fuse_gtol > 0 && gnorm <= o_.fuse_gtol) held.push_back("gtol");
    PetscReal rel = -1;
    if (static_cast<PetscInt>(losses_.size()) == o_.fuse_window + 1) {
      const PetscReal old = losses_.front();
      rel = std::fabs(loss - old) / std::max(std::fabs(old), PETSC_SMALL);
      if (rel <= o_.fuse_ftol) held.push_back("plateau");
    }
    if (held.empty()) return;
    phase_ = "lbfgs";
    switch_iteration_ = k;
    criterion_ = held.front();
    lbfgs_->reset();
    failures_ = 0;
    std::string all;
    for (const auto& h : held) all += (all.empty() ? "" : ", ") + h;
    char buf[200];
    std::snprintf(buf, sizeof(buf), " (iteration %d, |grad L| %.3e, relative change %.3e over %d iterations)",
                  static_cast<int>(k), static_cast<double>(gnorm), static_cast<double>(rel),
                  static_cast<int>(o_.fuse_window));
    note("FUSE: switching to L-BFGS, criterion " + criterion_ + " fired" +
         (held.size() > 1 ? " (held: " + all + ")" : "") + buf);
  }
  void note(const std::string& m) { messages_.push_back(m); }

  const OuterOptions o_;
  std::unique_ptr<Optimizer> adam_, lbfgs_;
  std::string phase_ = "adam";
  std::deque<PetscReal> losses_;  // the last w+1 losses of the Adam phase (initial one included)
  PetscInt failures_ = 0;
  PetscInt switch_iteration_ = -1;
  std::string criterion_;
  PetscInt fallback_iteration_ = -1;
  std::vector<std::string> messages_;
};

}  // namespace

std::unique_ptr<Optimizer> create_fuse(const OuterOptions& opts, PetscInt num_samples) {
  return std::make_unique<Fuse>(opts, num_samples);
}

}  // namespace bilearn
