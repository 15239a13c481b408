#include "bilearn/problem/operator_cache.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <map>
#include <sstream>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/problem/explicit_transpose.hpp"

namespace bilearn {
namespace {

OperatorCache*& active() {
  static OperatorCache* cache = nullptr;
  return cache;
}

bool names_geometry(const std::string& name) {
  for (const char* prefix : {"-problem", "-tomo_", "-blur_", "-inpaint_", "-matrix_", "-samples_groups"})
    if (name.rfind(prefix, 0) == 0) return true;
  return false;
}

bool is_option_name(const std::string& w) {
  return w.size() >= 2 && w[0] == '-' && std::isalpha(static_cast<unsigned char>(w[1]));
}

// The option names of a key's words ("-tomo_angles=20" → "-tomo_angles"; "n=16", "|" and
// "theta=…" name none).
std::vector<std::string> names_in(const std::string& key) {
  std::istringstream words(key);
  std::vector<std::string> names;
  for (std::string w; words >> w;) {
    const std::string name = w.substr(0, w.find('='));
    if (is_option_name(name)) names.push_back(name);
  }
  return names;
}

// The options of key that the computation of an entry read (PetscOptionsUsed), to count as read
// again on a hit: no unused-option warning then, and only for those (an option the computation
// ignored stays unused, as in a standalone run).
std::vector<std::string> used_options(const std::string& key) {
  std::vector<std::string> used;
  for (const auto& name : names_in(key)) {
    PetscBool u = PETSC_FALSE;
    BILEARN_CHECK(PetscOptionsUsed(nullptr, name.c_str() + 1, &u));  // the name without its '-'
    if (u) used.push_back(name);
  }
  return used;
}

void mark_used(const std::vector<std::string>& names) {
  for (const auto& name : names) {
    PetscBool set = PETSC_FALSE;
    BILEARN_CHECK(PetscOptionsHasName(nullptr, nullptr, name.c_str(), &set));
  }
}

}  // namespace

OperatorCache* active_operator_cache() {
  return active();
}

ScopedOperatorCache::ScopedOperatorCache(OperatorCache* cache) : previous_(active()) {
  active() = cache;
}

ScopedOperatorCache::~ScopedOperatorCache() {
  active() = previous_;
}

ForwardModel share_forward_model(const ForwardModel& source) {
  ForwardModel m;
  m.name = source.name;
  BILEARN_CHECK(PetscObjectReference(reinterpret_cast<PetscObject>(source.A.get())));
  m.A = OwnedMat(source.A.get());
  m.data_on_grid = source.data_on_grid;
  m.data_rows = source.data_rows;
  m.data_cols = source.data_cols;
  m.circulant_kernel = source.circulant_kernel;
  m.geometry = source.geometry;
  m.cache_key = source.cache_key;
  return m;
}

bool append_given_options(std::string& key, const std::function<bool(const std::string&)>& selects) {
  char* all = nullptr;
  BILEARN_CHECK(PetscOptionsGetAll(nullptr, &all));
  std::istringstream words(all ? all : "");
  BILEARN_CHECK(PetscFree(all));
  std::map<std::string, std::string> given;  // sorted: the order in the job file does not matter
  std::string name;
  for (std::string w; words >> w;) {
    if (is_option_name(w)) {
      name = w;
      given[name] = "";
    } else if (!name.empty()) {
      given[name] = w;
    }
  }
  for (const auto& [option, value] : given) {
    if (!selects(option)) continue;
    if (option.size() > 5 && option.compare(option.size() - 5, 5, "_file") == 0) return false;  // may change
    key += " " + option + (value.empty() ? "" : "=" + value);
  }
  return true;
}

std::string exact_number(PetscReal x) {
  char text[64];
  std::snprintf(text, sizeof text, "%a", static_cast<double>(x));
  return text;
}

std::string operator_cache_key(const ImageGrid& grid, const ProblemOptions& options) {
  PetscMPIInt ranks = 1;
  MPI_Comm_size(grid.comm(), &ranks);
  std::string key = options.type + " n=" + std::to_string(grid.n()) + " ranks=" + std::to_string(ranks);
  const bool cacheable = append_given_options(key, [](const std::string& option) {
    return names_geometry(option) && option != "-problem_view";  // -problem_view prints, builds nothing
  });
  return cacheable && options.type != "matrix" ? key : "";
}

const char* cache_kind_name(CacheKind kind) {
  switch (kind) {
    case CacheKind::op:
      return "operator";
    case CacheKind::pc_symbol:
      return "pc_symbol";
    case CacheKind::lipschitz:
      return "lipschitz";
  }
  return "?";
}

bool OperatorCache::find(const std::string& key, ForwardModel& model) {
  Counts& counts = counts_[static_cast<int>(CacheKind::op)];
  const auto it = std::find_if(entries_.begin(), entries_.end(),
                               [&](const Entry& e) { return e.kind == CacheKind::op && e.key == key; });
  if (it == entries_.end()) {
    ++counts.misses;
    return false;
  }
  entries_.splice(entries_.begin(), entries_, it);  // most recently used
  ++counts.hits;
  mark_used(entries_.front().used);
  model = share_forward_model(entries_.front().model);
  return true;
}

void OperatorCache::store(MPI_Comm grid_comm, const std::string& key, const ForwardModel& model) {
  double mb = local_stored_bytes(model.A) / (1024.0 * 1024.0);
  BILEARN_CHECK(MPI_Allreduce(MPI_IN_PLACE, &mb, 1, MPI_DOUBLE, MPI_MAX, grid_comm));
  if (mb > max_mb_) return;
  keep(Entry{CacheKind::op, key, share_forward_model(model), {}, mb, used_options(key)});
}

bool OperatorCache::find_values(MPI_Comm comm, CacheKind kind, const std::string& key, std::vector<PetscReal>& values) {
  const auto it =
      std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.kind == kind && e.key == key; });
  // Every rank stores and evicts alike, so they agree; the reduction makes sure of it (a rank
  // that answered alone would leave the others in a collective recomputation).
  int everywhere = it != entries_.end() ? 1 : 0;
  BILEARN_CHECK(MPI_Allreduce(MPI_IN_PLACE, &everywhere, 1, MPI_INT, MPI_MIN, comm));
  Counts& counts = counts_[static_cast<int>(kind)];
  if (!everywhere) {
    ++counts.misses;
    return false;
  }
  entries_.splice(entries_.begin(), entries_, it);  // most recently used
  ++counts.hits;
  values = entries_.front().values;
  mark_used(entries_.front().used);
  return true;
}

void OperatorCache::store_values(MPI_Comm comm, CacheKind kind, const std::string& key,
                                 const std::vector<PetscReal>& values) {
  double mb = static_cast<double>(values.size() * sizeof(PetscReal) + key.size()) / (1024.0 * 1024.0);
  BILEARN_CHECK(MPI_Allreduce(MPI_IN_PLACE, &mb, 1, MPI_DOUBLE, MPI_MAX, comm));
  if (mb > max_mb_) return;
  entries_.remove_if([&](const Entry& e) { return e.kind == kind && e.key == key; });  // replaced
  keep(Entry{kind, key, ForwardModel(), values, mb, used_options(key)});
}

void OperatorCache::keep(Entry entry) {
  entries_.push_front(std::move(entry));
  while (megabytes() > max_mb_) entries_.pop_back();
}

size_t OperatorCache::entries(CacheKind kind) const {
  return static_cast<size_t>(
      std::count_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.kind == kind; }));
}

double OperatorCache::megabytes() const {
  double total = 0;
  for (const auto& e : entries_) total += e.mb;
  return total;
}

}  // namespace bilearn
