#include "bilearn/reg/experts.hpp"

#include "bilearn/core/error.hpp"

namespace bilearn {

const std::vector<std::string>& Expert::names() {
  static const std::vector<std::string> n = {"quadratic", "huber", "l1", "lorentzian"};
  return n;
}

ExpertKind Expert::parse(const std::string& name) {
  const auto& n = names();
  for (size_t i = 0; i < n.size(); ++i)
    if (n[i] == name) return static_cast<ExpertKind>(i);
  throw InputError("unknown expert '" + name + "' (choose one of quadratic, huber, l1, lorentzian)");
}

std::string Expert::name() const {
  return names()[static_cast<size_t>(kind_)];
}

}  // namespace bilearn
