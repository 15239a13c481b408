// One registry per plug-in family (regulariser, forward model, hypergradient estimator,
// outer optimiser): name → create function, in registration order. A new member is one file
// plus one add() line in its family's registry function; -help lists names() as the choices
// of the family's type option, and an unknown name is one InputError naming the choices.
#pragma once
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/error.hpp"

namespace bilearn {

// Product: what a create function returns (std::unique_ptr<Base> for the polymorphic families,
// ForwardModel by value for the forward models).
template <class Product, class... Args>
class Registry {
 public:
  using Create = std::function<Product(Args...)>;

  // family: what the members are, for messages ("regulariser", "forward model", ...).
  explicit Registry(std::string family) : family_(std::move(family)) {}

  // Registers a member; a name already taken is a logic error (two files claim it).
  void add(const std::string& name, Create create) {
    if (has(name)) throw std::logic_error(family_ + " '" + name + "' registered twice");
    entries_.emplace_back(name, std::move(create));
  }
  bool has(const std::string& name) const {
    for (const auto& e : entries_)
      if (e.first == name) return true;
    return false;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& e : entries_) out.push_back(e.first);
    return out;
  }
  // "a, b, c": the choices, for -help and messages.
  std::string list() const {
    std::string out;
    for (const auto& e : entries_) out += (out.empty() ? "" : ", ") + e.first;
    return out;
  }
  const std::string& family() const noexcept { return family_; }

  // Creates the member called name (InputError naming the choices if there is none).
  Product create(const std::string& name, Args... args) const {
    for (const auto& e : entries_)
      if (e.first == name) return e.second(std::forward<Args>(args)...);
    throw InputError("unknown " + family_ + " '" + name + "' (choose one of " + list() + ")");
  }

 private:
  std::string family_;
  std::vector<std::pair<std::string, Create>> entries_;
};

}  // namespace bilearn
