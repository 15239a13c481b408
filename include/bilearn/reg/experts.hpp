// Experts φ of a field of experts (docs/algorithms.md §1), with the scale γ > 0 (images in [0, 1]):
//   quadratic  φ(t) = t²/2
//   huber      φ(t) = t²/(2γ) for |t| ≤ γ, |t| − γ/2 otherwise  (φ'' jumps at |t| = γ)
//   l1         φ(t) = √(t² + γ²)                                  (smoothed |t|)
//   lorentzian φ(t) = log(1 + t²/γ²)                               (non-convex for |t| > γ)
#pragma once
#include <petscsys.h>

#include <cmath>
#include <string>
#include <vector>

namespace bilearn {

enum class ExpertKind { quadratic, huber, l1, lorentzian };

struct ExpertValues {
  PetscReal phi, d1, d2;  // φ(t), φ'(t), φ''(t)
};

class Expert {
 public:
  Expert(ExpertKind kind, PetscReal gamma) : kind_(kind), gamma_(gamma) {}
  static const std::vector<std::string>& names();    // in ExpertKind order
  static ExpertKind parse(const std::string& name);  // one of names(); else InputError
  std::string name() const;
  ExpertKind kind() const noexcept { return kind_; }
  PetscReal gamma() const noexcept { return gamma_; }

  ExpertValues operator()(PetscReal t) const noexcept {
    const PetscReal g = gamma_;
    switch (kind_) {
      case ExpertKind::quadratic:
        return {0.5 * t * t, t, 1.0};
      case ExpertKind::huber: {
        const PetscReal a = std::fabs(t);
        if (a <= g) return {0.5 * t * t / g, t / g, 1.0 / g};
        return {a - 0.5 * g, t > 0 ? 1.0 : -1.0, 0.0};
      }
      case ExpertKind::l1: {
        const PetscReal s2 = t * t + g * g, s = std::sqrt(s2);
        return {s, t / s, g * g / (s2 * s)};
      }
      case ExpertKind::lorentzian: {
        const PetscReal s = g * g + t * t;
        return {std::log1p(t * t / (g * g)), 2.0 * t / s, 2.0 * (g * g - t * t) / (s * s)};
      }
    }
    return {0, 0, 0};
  }

 private:
  ExpertKind kind_;
  PetscReal gamma_;
};

}  // namespace bilearn
