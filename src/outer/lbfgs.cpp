// L-BFGS (Nocedal & Wright, Alg. 7.4 two-loop recursion) with Armijo backtracking along its
// direction d: accept θ⁺ = P(θ + αd) when L(θ⁺) ≤ L(θ) + c gᵀ(θ⁺ − θ), trial α = 1 (the
// first step, with no pairs yet, is steepest descent from α = -outer_step). Safeguards:
//   * a pair (s, y) with sᵀy ≤ ε_mach‖s‖‖y‖ is skipped (keeps H₀-scaled inverse positive
//     definite; Armijo alone does not guarantee curvature);
//   * a direction with gᵀd ≥ 0 resets the memory and uses d = −g;
//   * a failed line search along the quasi-Newton direction resets the memory and retries
//     steepest descent once (the step reports direction_failed for FUSE).
// With box bounds the projected path is a heuristic (no active-set reduction of the memory).
#include <cmath>
#include <cstdio>
#include <deque>
#include <limits>
#include <utility>

#include "bilearn/outer/line_search.hpp"
#include "bilearn/outer/optimizer.hpp"
#include "bilearn/outer/state_codec.hpp"

namespace bilearn {
namespace {

class Lbfgs : public Optimizer {
 public:
  explicit Lbfgs(const OuterOptions& o) : o_(o) {}

  std::string name() const override { return "lbfgs"; }

  StepOutcome step(Oracle& oracle, PetscInt iteration) override {
    // The quasi-Newton model needs the full-batch gradient (after Adam on mini-batches).
    if (!oracle.current().samples.empty()) oracle.set_current(oracle.evaluate_point(oracle.current().theta, {}));
    const Point p = oracle.current();
    const std::vector<PetscReal>& g = p.eval.gradient;
    StepOutcome out;
    std::vector<PetscReal> d = direction(g);
    bool quasi_newton = !s_.empty();
    if (quasi_newton && !(dot(g, d) < 0)) {
      note("L-BFGS: step " + std::to_string(iteration) + ": not a descent direction, memory reset");
      reset();
      d = direction(g);
      quasi_newton = false;
    }
    LineSearchResult r =
        armijo_backtracking(oracle, d, quasi_newton ? 1.0 : first_trial_step(o_.step, o_.first_step_norm, d), o_.ls_c,
                            o_.ls_rho, o_.ls_max_backtracks);
    out.backtracks = r.backtracks;
    if (!r.accepted && quasi_newton) {
      out.direction_failed = true;
      note("L-BFGS: step " + std::to_string(iteration) + ": line search failed along the quasi-Newton direction, " +
           "memory reset, retrying steepest descent");
      reset();
      d = direction(g);
      r = armijo_backtracking(oracle, d, first_trial_step(o_.step, o_.first_step_norm, d), o_.ls_c, o_.ls_rho,
                              o_.ls_max_backtracks);
      out.backtracks += r.backtracks;
    }
    out.step = r.alpha;
    if (!r.accepted) {
      out.direction_failed = true;
      out.message = r.message;
      return out;
    }
    // Curvature pair s = θ⁺ − θ, y = ∇L(θ⁺) − ∇L(θ).
    std::vector<PetscReal> s(r.point.theta), y(r.point.eval.gradient);
    for (size_t i = 0; i < s.size(); ++i) {
      s[i] -= p.theta[i];
      y[i] -= g[i];
    }
    const PetscReal sy = dot(s, y);
    if (sy > std::numeric_limits<PetscReal>::epsilon() * norm2(s) * norm2(y)) {
      s_.push_back(std::move(s));
      y_.push_back(std::move(y));
      if (static_cast<PetscInt>(s_.size()) > o_.lbfgs_m) {
        s_.pop_front();
        y_.pop_front();
      }
    } else {
      ++skipped_;
    }
    oracle.set_current(std::move(r.point));
    out.accepted = true;
    return out;
  }

  void reset() override {
    s_.clear();
    y_.clear();
  }

  nlohmann::json save() const override {
    nlohmann::json s = nlohmann::json::array(), y = nlohmann::json::array();
    for (size_t i = 0; i < s_.size(); ++i) {
      s.push_back(hex_reals(s_[i]));
      y.push_back(hex_reals(y_[i]));
    }
    return {{"s", s}, {"y", y}, {"skipped", skipped_}};
  }
  void load(const nlohmann::json& st) override {
    reset();
    const auto& s = st.at("s");
    const auto& y = st.at("y");
    for (size_t i = 0; i < s.size() && i < y.size(); ++i) {
      s_.push_back(parse_hex_reals(s[i], "lbfgs state s"));
      y_.push_back(parse_hex_reals(y[i], "lbfgs state y"));
    }
    skipped_ = st.at("skipped").get<PetscInt>();
  }
  std::vector<std::string> take_messages() override { return std::exchange(messages_, {}); }
  nlohmann::json summary() const override { return {{"lbfgs_pairs_skipped", skipped_}}; }

 private:
  // d = −H g by the two-loop recursion with H₀ = (sᵀy / yᵀy) I; −g without pairs.
  std::vector<PetscReal> direction(const std::vector<PetscReal>& g) const {
    std::vector<PetscReal> q(g);
    const size_t k = s_.size();
    std::vector<PetscReal> a(k);
    for (size_t j = k; j-- > 0;) {
      a[j] = dot(s_[j], q) / dot(y_[j], s_[j]);
      for (size_t i = 0; i < q.size(); ++i) q[i] -= a[j] * y_[j][i];
    }
    if (k > 0) {
      const PetscReal gamma = dot(s_[k - 1], y_[k - 1]) / dot(y_[k - 1], y_[k - 1]);
      for (auto& v : q) v *= gamma;
    }
    for (size_t j = 0; j < k; ++j) {
      const PetscReal b = dot(y_[j], q) / dot(y_[j], s_[j]);
      for (size_t i = 0; i < q.size(); ++i) q[i] += (a[j] - b) * s_[j][i];
    }
    for (auto& v : q) v = -v;
    return q;
  }
  void note(const std::string& m) { messages_.push_back(m); }

  const OuterOptions o_;
  std::deque<std::vector<PetscReal>> s_, y_;
  PetscInt skipped_ = 0;
  std::vector<std::string> messages_;
};

}  // namespace

std::unique_ptr<Optimizer> create_lbfgs(const OuterOptions& opts) {
  return std::make_unique<Lbfgs>(opts);
}

}  // namespace bilearn
