// Adam (Kingma & Ba 2015) with projection onto the box bounds:
//   m ← β1 m + (1−β1) g,  v ← β2 v + (1−β2) g²,  θ⁺ = P(θ − lr m̂/(√v̂ + eps)),
//   m̂ = m/(1−β1ᵗ), v̂ = v/(1−β2ᵗ).
// With 0 < -outer_batch_size < S every evaluation uses a mini-batch drawn without replacement
// by SplitMix64 from -outer_seed: the batch of step k+1 is drawn when θ_k is evaluated (so
// one evaluation per step), and the history shows that mini-batch loss.
#include <cmath>

#include "bilearn/outer/optimizer.hpp"
#include "bilearn/outer/rng.hpp"
#include "bilearn/outer/state_codec.hpp"

namespace bilearn {
namespace {

class Adam : public Optimizer {
 public:
  Adam(const OuterOptions& o, PetscInt num_samples)
      : o_(o), num_samples_(num_samples), rng_(static_cast<std::uint64_t>(o.seed)) {}

  std::string name() const override { return "adam"; }

  void start(Oracle& oracle) override {
    if (batched()) oracle.set_current(oracle.evaluate_point(oracle.current().theta, next_batch()));
  }

  StepOutcome step(Oracle& oracle, PetscInt) override {
    const Point& p = oracle.current();
    const std::vector<PetscReal>& g = p.eval.gradient;
    const size_t n = g.size();
    if (m_.size() != n) reset();
    m_.resize(n, 0.0);
    v_.resize(n, 0.0);
    t_ += 1;
    const PetscReal c1 = 1 - std::pow(o_.adam_beta1, static_cast<PetscReal>(t_));
    const PetscReal c2 = 1 - std::pow(o_.adam_beta2, static_cast<PetscReal>(t_));
    std::vector<PetscReal> next(p.theta);
    for (size_t i = 0; i < n; ++i) {
      m_[i] = o_.adam_beta1 * m_[i] + (1 - o_.adam_beta1) * g[i];
      v_[i] = o_.adam_beta2 * v_[i] + (1 - o_.adam_beta2) * g[i] * g[i];
      next[i] -= o_.adam_lr * (m_[i] / c1) / (std::sqrt(v_[i] / c2) + o_.adam_eps);
    }
    oracle.project(next);
    Point np = oracle.evaluate_point(next, batched() ? next_batch() : std::vector<PetscInt>{});
    StepOutcome out;
    out.step = o_.adam_lr;
    if (!std::isfinite(np.eval.loss) || !all_finite(np.eval.gradient)) {
      out.message = "Adam reached a non-finite upper loss or gradient";
      return out;
    }
    oracle.set_current(std::move(np));
    out.accepted = true;
    return out;
  }

  void reset() override {
    m_.assign(m_.size(), 0.0);
    v_.assign(v_.size(), 0.0);
    t_ = 0;
  }

  nlohmann::json save() const override {
    return {{"m", hex_reals(m_)}, {"v", hex_reals(v_)}, {"t", t_}, {"rng", u64_string(rng_.state())}};
  }
  void load(const nlohmann::json& s) override {
    m_ = parse_hex_reals(s.at("m"), "adam state m");
    v_ = parse_hex_reals(s.at("v"), "adam state v");
    t_ = s.at("t").get<PetscInt>();
    rng_.set_state(parse_u64(s.at("rng"), "adam state rng"));
  }
  nlohmann::json summary() const override { return {{"batch_size", batched() ? o_.batch_size : num_samples_}}; }

 private:
  bool batched() const { return o_.batch_size > 0 && o_.batch_size < num_samples_; }
  std::vector<PetscInt> next_batch() { return draw_batch(rng_, num_samples_, o_.batch_size); }

  const OuterOptions o_;
  PetscInt num_samples_;
  SplitMix64 rng_;
  std::vector<PetscReal> m_, v_;
  PetscInt t_ = 0;
};

}  // namespace

std::unique_ptr<Optimizer> create_adam(const OuterOptions& opts, PetscInt num_samples) {
  return std::make_unique<Adam>(opts, num_samples);
}

}  // namespace bilearn
