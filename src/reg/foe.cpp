// foe (fields of experts, docs/algorithms.md §1): R(x) = Σ_f w_f Σ_o φ((C_f x)_o) over the output
// pixels o of the "valid" correlations C_f (convolution.hpp), θ = [log10 w_1..w_K] and, with
// -reg_foe_learn_filters, then the coefficients c_1..c_K (k² each, row-major).
//   ∇R = Σ_f w_f C_fᵀ φ'(C_f x),  ∇²R = Σ_f w_f C_fᵀ diag φ''(C_f x) C_f
//   diag ∇²R = Σ_f w_f (C_f∘C_f)ᵀ φ''(C_f x)          (filters squared entrywise)
//   J v: row log10 w_f: ln10 w_f ⟨φ'(C_f x), C_f v⟩
//        row c_f[m]: w_f Σ_o [φ'(z_o) v(o + m) + φ''(z_o) (C_f v)_o x(o + m)]   (product rule:
//        ∂/∂c_f[m] of C_fᵀ φ'(C_f x) is S_mᵀ φ'(C_f x) + C_fᵀ diag φ''(C_f x) S_m x, S_m the shift)
//   Jᵀω = Σ_f C_fᵀ[ln10 w_f ω_f φ' + w_f φ'' ⊙ (B_f x)] + w_f B_fᵀ φ',  B_f: the filter ω_{c_f}.
#include <cmath>
#include <cstdio>
#include <memory>

#include "bilearn/core/error.hpp"
#include "bilearn/reg/convolution.hpp"
#include "bilearn/reg/experts.hpp"
#include "bilearn/reg/factories.hpp"
#include "bilearn/reg/filters.hpp"
#include "bilearn/reg/stencil.hpp"

namespace bilearn {
namespace {

class FieldsOfExperts : public RegulariserBase {
 public:
  explicit FieldsOfExperts(const ImageGrid& grid)
      : grid_(grid), expert_(ExpertKind::l1, 1e-2), point_(grid.dm()), work_(grid.dm()) {}

  void set_from_options(OptionsBlock& options) override {
    source_ = options.choice("-foe_filters",
                             "filter bank: zero-mean DCT basis 3x3 (8 filters), 5x5 (24 filters) or a text file",
                             {"dct3", "dct5", "file"}, source_);
    file_ = options.string(
        "-foe_filter_file",
        "text filter file for -reg_foe_filters file: \"K k\" then K·k² numbers, row-major, '#' comments", file_);
    const std::string expert_name =
        options.choice("-foe_expert", "expert φ: quadratic t²/2, huber, l1 √(t²+γ²), lorentzian log(1+t²/γ²)",
                       Expert::names(), expert_.name());
    const PetscReal gamma = options.real("-foe_gamma", "scale γ of the huber/l1/lorentzian experts (images in [0, 1])",
                                         expert_.gamma(), 1e-12, 1e6);
    expert_ = Expert(Expert::parse(expert_name), gamma);
    learn_ = options.flag("-foe_learn_filters", "learn the filter coefficients too (θ = log10 w_1..w_K, then c_1..c_K)",
                          learn_);
  }

  // Reads the bank and sizes everything from it; θ = K weights at 10^-2 (and the bank's
  // coefficients when they are learnt).
  void set_up() override {
    PetscInt width = 0;
    BILEARN_CHECK(DMDAGetInfo(grid_.dm(), nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr,
                              &width, nullptr, nullptr, nullptr, nullptr));
    FilterBank bank;
    if (source_ == "dct3") bank = dct_filter_bank(3);
    if (source_ == "dct5") bank = dct_filter_bank(5);
    if (source_ == "file") {
      require(!file_.empty(), "-reg_foe_filters file needs -reg_foe_filter_file F");
      bank = read_filter_file(grid_.comm(), file_, 2 * width + 1);
    }
    conv_ = std::make_unique<Convolution>(grid_, bank.count, bank.side);
    K_ = bank.count;
    T_ = bank.side * bank.side;
    filters_ = bank.coeffs;
    squared_.assign(bank.coeffs.size(), 0.0);
    w_.assign(static_cast<size_t>(bank.count), 0.0);
    const size_t n = static_cast<size_t>(grid_.local_size() * K_);
    z_.assign(n, 0.0);
    d1_.assign(n, 0.0);
    wd2_.assign(n, 0.0);
    theta_.assign(static_cast<size_t>(K_), -2.0);
    if (learn_) theta_.insert(theta_.end(), filters_.begin(), filters_.end());
    acc_.assign(theta_.size(), 0.0);
    squared_basis_.clear();
    if (!learn_ && !bank.basis.empty()) {  // fixed DCT bank: separable kernels
      conv_->set_separable(bank.basis, bank.pairs);
      for (PetscReal u : bank.basis) squared_basis_.push_back(u * u);
    }
    have_point_ = false;
    on_theta_changed();
  }

  std::string name() const override { return "foe"; }

  std::vector<std::string> param_names() const override {
    std::vector<std::string> n;
    for (PetscInt f = 1; f <= K_; ++f) n.push_back("log10 w_" + std::to_string(f));
    if (learn_) {
      const PetscInt k = conv_->side();
      for (PetscInt f = 1; f <= K_; ++f)
        for (PetscInt a = 0; a < k; ++a)
          for (PetscInt b = 0; b < k; ++b)
            n.push_back("c_" + std::to_string(f) + "[" + std::to_string(a) + "," + std::to_string(b) + "]");
    }
    return n;
  }

  std::string theta_summary() const override {
    std::string s = "log10 w_1..w_" + std::to_string(K_);
    if (learn_)
      s += ", then c_1..c_" + std::to_string(K_) + " (" + std::to_string(T_) + " coefficients each, row-major)";
    return s;
  }

  std::string theta_requirement() const override {
    const std::string k = std::to_string(K_), kk = std::to_string(conv_->side());
    if (!learn_) return "foe with " + k + " filters needs " + k + ": " + theta_summary();
    return "foe with " + k + " learnable " + kk + "x" + kk + " filters needs " + k + " (log10 w_1..w_" + k +
           "; filters from the bank) or " + std::to_string(K_ + K_ * T_) + ": " + theta_summary();
  }

  std::vector<PetscReal> expand_theta(const std::vector<PetscReal>& theta) const override {
    if (!learn_ || static_cast<PetscInt>(theta.size()) != K_) return theta;
    std::vector<PetscReal> full = theta;
    full.insert(full.end(), filters_.begin(), filters_.end());
    return full;
  }

  PetscReal value_at(Vec x) override {
    work_.update(x);
    forward(work_.local(), z_.data());
    PetscReal local = 0;
    for_outputs([&](PetscInt o) {
      for (PetscInt f = 0; f < K_; ++f) local += w_[f] * expert_(z_[o + f]).phi;
    });
    return sum(local);
  }

  void gradient_at(Vec x, Vec g) override {
    work_.update(x);
    {
      VecArray t(conv_->field());
      forward(work_.local(), t.data());
      for_outputs([&](PetscInt o) {
        for (PetscInt f = 0; f < K_; ++f) t[o + f] = w_[f] * expert_(t[o + f]).d1;
      });
    }
    adjoint(g);
  }

  std::vector<PetscReal> theta_gradient_at(Vec x) override {
    work_.update(x);
    forward(work_.local(), z_.data());
    std::fill(acc_.begin(), acc_.end(), 0.0);
    // ∂R/∂log10 w_f = ln10 w_f Σ φ(z_f);  ∂R/∂c_f[m] = w_f Σ_o φ'(z_o) x(o + m).
    for_outputs([&](PetscInt o) {
      for (PetscInt f = 0; f < K_; ++f) {
        const ExpertValues e = expert_(z_[o + f]);
        acc_[f] += e.phi;
        z_[o + f] = e.d1;  // z_ now holds φ'(z) at the outputs (0 elsewhere is not needed)
      }
    });
    if (learn_) conv_->correlate_taps(work_.local(), z_.data(), acc_.data() + K_);
    std::vector<PetscReal> out(acc_.size());
    sum_reduce(grid_.comm(), acc_.data(), out.data(), out.size());
    for (PetscInt f = 0; f < K_; ++f) out[f] *= kLn10 * w_[f];
    if (learn_)
      for (PetscInt f = 0; f < K_; ++f)
        for (PetscInt m = 0; m < T_; ++m) out[K_ + f * T_ + m] *= w_[f];
    return out;
  }

  void set_point_at(Vec x) override {
    point_.update(x);
    have_point_ = true;
    linearised_ = false;
    if (dual_newton_) advance_dual();
  }

  // Smoothed ℓ1 only: its dual variable u = φ'(t) = t/ψ(t), ψ = √(t² + γ²), lies in (−1, 1).
  bool begin_dual_newton() override {
    if (expert_.kind() != ExpertKind::l1) return false;
    dual_newton_ = true;
    have_dual_ = false;
    const size_t n = z_.size();
    if (dual_.size() != n) {  // once; reused by every later solve
      dual_.assign(n, 0.0);
      dual_t_.assign(n, 0.0);
    }
    return true;
  }
  void end_dual_newton() override {
    dual_newton_ = false;
    have_dual_ = false;
    linearised_ = false;  // the next products are the true Hessian's
  }

  void hessian_mult_at(Vec v, Vec y) override {
    linearise();
    work_.update(v);
    {
      VecArray t(conv_->field());
      forward(work_.local(), t.data(), wd2_.data());  // w_f φ''(C_f x) ⊙ C_f v in one pass
    }
    adjoint(y);
  }

  void hessian_diagonal_at(Vec d) override {
    linearise();
    {
      VecArray t(conv_->field());
      for_outputs([&](PetscInt o) {
        for (PetscInt f = 0; f < K_; ++f) t[o + f] = wd2_[o + f];
      });
    }
    if (conv_->separable())
      conv_->adjoint_separable(d, false, squared_basis_.data());  // (u_p(a) u_q(b))² is separable too
    else
      conv_->adjoint(squared_.data(), d);
  }

  void mixed_mult_at(Vec v, std::vector<PetscReal>& Jv) override {
    linearise();
    work_.update(v);
    forward(work_.local(), z_.data());  // u = C v
    std::fill(acc_.begin(), acc_.end(), 0.0);
    for_outputs([&](PetscInt o) {
      for (PetscInt f = 0; f < K_; ++f) {
        acc_[f] += d1_[o + f] * z_[o + f];
        z_[o + f] *= wd2_[o + f];  // w_f φ''(z) ⊙ C v for the filter rows
      }
    });
    if (learn_) {
      // Local sums: w_f Σ φ' v(o + m) (scaled here), then + Σ w_f φ'' (C v) x(o + m).
      conv_->correlate_taps(work_.local(), d1_.data(), acc_.data() + K_);
      for (PetscInt f = 0; f < K_; ++f)
        for (PetscInt m = 0; m < T_; ++m) acc_[K_ + f * T_ + m] *= w_[f];
      conv_->correlate_taps(point_.local(), z_.data(), acc_.data() + K_);
    }
    Jv.resize(acc_.size());
    sum_reduce(grid_.comm(), acc_.data(), Jv.data(), Jv.size());
    for (PetscInt f = 0; f < K_; ++f) Jv[f] *= kLn10 * w_[f];
  }

  void mixed_mult_transpose_at(const std::vector<PetscReal>& omega, Vec y) override {
    linearise();
    require(static_cast<PetscInt>(omega.size()) == num_params(),
            "foe: Jᵀw needs " + std::to_string(num_params()) + " values, got " + std::to_string(omega.size()));
    const PetscReal* beta = omega.data() + K_;                    // filter part of ω, FilterBank layout
    if (learn_) conv_->forward(point_.local(), beta, z_.data());  // B_f x
    {
      VecArray t(conv_->field());
      for_outputs([&](PetscInt o) {
        for (PetscInt f = 0; f < K_; ++f) {
          PetscReal s = kLn10 * w_[f] * omega[f] * d1_[o + f];
          if (learn_) s += wd2_[o + f] * z_[o + f];
          t[o + f] = s;
        }
      });
    }
    adjoint(y);
    if (!learn_) return;
    {
      VecArray t(conv_->field());
      for_outputs([&](PetscInt o) {
        for (PetscInt f = 0; f < K_; ++f) t[o + f] = w_[f] * d1_[o + f];
      });
    }
    conv_->adjoint(beta, y, true);
  }

 protected:
  std::vector<std::string> view_lines() const override {
    char line[160];
    std::snprintf(line, sizeof(line), "filters: %s, %d of side %d (%s)%s", source_.c_str(), (int)K_,
                  (int)(conv_ ? conv_->side() : 0), learn_ ? "learnt" : "fixed",
                  source_ == "file" ? (", file " + file_).c_str() : "");
    std::vector<std::string> lines = {line};
    std::snprintf(line, sizeof(line), "expert: %s, gamma = %g", expert_.name().c_str(), (double)expert_.gamma());
    lines.push_back(line);
    return lines;
  }
  void on_theta_changed() override {
    for (PetscInt f = 0; f < K_; ++f) w_[f] = std::pow(10.0, theta_[f]);
    if (learn_) std::copy(theta_.begin() + K_, theta_.end(), filters_.begin());
    for (size_t m = 0; m < filters_.size(); ++m) squared_[m] = filters_[m] * filters_[m];
    linearised_ = false;
  }

 private:
  // Calls body(o) with o = the offset of the dof block of every owned output pixel.
  template <class Body>
  void for_outputs(Body&& body) const {
    const PetscInt x0 = grid_.x0(), y0 = grid_.y0(), nx = grid_.nx();
    for (PetscInt j = conv_->oy0(); j < conv_->oy1(); ++j)
      for (PetscInt i = conv_->ox0(); i < conv_->ox1(); ++i) body(((j - y0) * nx + (i - x0)) * K_);
  }

  // C x and Σ_f C_fᵀ t_f with the current filters (separable kernels for a fixed DCT bank).
  void forward(Vec x_local, PetscScalar* out, const PetscScalar* scale = nullptr) const {
    if (conv_->separable())
      conv_->forward_separable(x_local, out, scale);
    else
      conv_->forward(x_local, filters_.data(), out, scale);
  }
  void adjoint(Vec y) {
    if (conv_->separable())
      conv_->adjoint_separable(y);
    else
      conv_->adjoint(filters_.data(), y);
  }

  PetscReal sum(PetscReal local) const {
    PetscReal total = 0;
    sum_reduce(grid_.comm(), &local, &total, 1);
    return total;
  }

  void linearise() {
    if (!have_point_) throw std::logic_error("foe: set_point must be called before Hessian or mixed products");
    if (linearised_) return;
    if (have_dual_) {
      linearise_dual();
      return;
    }
    forward(point_.local(), z_.data());
    std::fill(d1_.begin(), d1_.end(), 0.0);
    std::fill(wd2_.begin(), wd2_.end(), 0.0);
    for_outputs([&](PetscInt o) {
      for (PetscInt f = 0; f < K_; ++f) {
        const ExpertValues e = expert_(z_[o + f]);
        d1_[o + f] = e.d1;
        wd2_[o + f] = w_[f] * e.d2;
      }
    });
    linearised_ = true;
  }

  // Primal–dual Newton for φ(t) = ψ(t) = √(t² + γ²) (docs/algorithms.md §4.8). The pair
  // (x, u) solves ∇Φ = AᵀAx − Aᵀy + Σ_f w_f C_fᵀ u_f + εx = 0 and ψ(t) ⊙ u − t = 0, t = C x.
  // Linearising the second equation at (t, u): du = D (dt) + (t/ψ − u), D = (1 − u t/ψ)/ψ, and
  // eliminating du from the first gives (AᵀA + Σ_f w_f C_fᵀ D_f C_f + εI) dx = −∇Φ(x): the
  // Newton system with D in place of φ''(t) = (1 − (t/ψ)²)/ψ (the same at u = φ'(t)). D > 0
  // while |u| < 1, so the system stays SPD. Here the step taken, dt = C(x_new − x_old) (after
  // TAO's line search), moves u by β du, β = min(1, 0.99·(distance to ±1)/|du|) per output
  // (Chan, Golub & Mulet, SIAM J. Sci. Comput. 20(6), 1999, take one β for all outputs; a step
  // per output takes fewer Newton steps, see gradient_norm.cpp's advance_dual).
  void advance_dual() {
    forward(point_.local(), z_.data());  // t at the new point
    const PetscReal g2 = expert_.gamma() * expert_.gamma();
    if (!have_dual_) {
      for_outputs([&](PetscInt o) {
        for (PetscInt f = 0; f < K_; ++f) {
          const PetscReal t = z_[o + f];
          dual_[o + f] = t / std::sqrt(t * t + g2);
          dual_t_[o + f] = t;
        }
      });
      have_dual_ = true;
      return;
    }
    for_outputs([&](PetscInt o) {
      for (PetscInt f = 0; f < K_; ++f) {
        const PetscReal t = dual_t_[o + f], s = std::sqrt(t * t + g2), u = dual_[o + f];
        const PetscReal du = (1 - u * t / s) / s * (z_[o + f] - t) + (t / s - u);
        PetscReal beta = 1;  // the largest step with |u + β du| ≤ 1, shortened
        if (du > 0) beta = std::min<PetscReal>(1.0, 0.99 * (1 - u) / du);
        if (du < 0) beta = std::min<PetscReal>(1.0, 0.99 * (-1 - u) / du);
        dual_[o + f] = u + beta * du;
        dual_t_[o + f] = z_[o + f];
      }
    });
  }

  // The products' curvature at the point from the dual variable (dual_t_ holds t = C x there).
  void linearise_dual() {
    const PetscReal g2 = expert_.gamma() * expert_.gamma();
    std::fill(d1_.begin(), d1_.end(), 0.0);
    std::fill(wd2_.begin(), wd2_.end(), 0.0);
    for_outputs([&](PetscInt o) {
      for (PetscInt f = 0; f < K_; ++f) {
        const PetscReal t = dual_t_[o + f], s = std::sqrt(t * t + g2);
        d1_[o + f] = t / s;
        wd2_[o + f] = w_[f] * (1 - dual_[o + f] * t / s) / s;
      }
    });
    linearised_ = true;
  }

  const ImageGrid& grid_;
  std::unique_ptr<Convolution> conv_;  // built by set_up from the bank
  Expert expert_;
  std::string source_ = "dct3", file_;
  bool learn_ = false;
  PetscInt K_ = 0, T_ = 0;
  std::vector<PetscReal> filters_, squared_, w_;
  std::vector<PetscReal> squared_basis_;  // separable bank: basis squared entrywise (diagonal)
  GhostedVec point_, work_;
  bool have_point_ = false, linearised_ = false;
  // Owned [pixel][filter]: work; φ'(C_f x) and w_f φ''(C_f x) at the point (0 off the outputs).
  std::vector<PetscScalar> z_, d1_, wd2_;
  std::vector<PetscReal> acc_;  // p local sums
  // Primal–dual Newton (begin_dual_newton .. end_dual_newton): u, and t = C x at the last point.
  bool dual_newton_ = false, have_dual_ = false;
  std::vector<PetscScalar> dual_, dual_t_;
};

}  // namespace

std::unique_ptr<RegulariserBase> create_foe(const ImageGrid& grid) {
  return std::make_unique<FieldsOfExperts>(grid);
}

}  // namespace bilearn
