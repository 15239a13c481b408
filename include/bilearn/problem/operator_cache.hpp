// Warm caches across the jobs of `bilearn serve` (docs/user_guide.md, "The solver service"):
// the assembled forward operator A with its stored transpose, kept for the next job whose
// geometry options are the same, and numbers derived from a geometry that later jobs would
// compute again (kinds below). create_forward_model consults the cache installed by
// ScopedOperatorCache (none outside the service: every command builds A afresh, and nothing
// derived is kept). The operator's key is the model's options as given (-problem*, -tomo_*,
// -blur_*, -inpaint_*, -samples_groups), the image side and the ranks of the grid; models read
// from files (-matrix_file, -inpaint_mask_file) are never cached, since the file may change. The
// key of a derived value starts with its operator's key (ForwardModel::cache_key) and adds what
// else the value depends on. A cached operator is the same matrix a rebuild would assemble
// (assembly is deterministic), and a derived value the same numbers a recomputation would give,
// so a job's results do not depend on a hit. One bound covers every kind together: the size on
// the rank holding the most; the least recently used entries go first.
#pragma once
#include <array>
#include <functional>
#include <list>
#include <string>
#include <vector>

#include "bilearn/problem/forward_model.hpp"

namespace bilearn {

enum class CacheKind {
  op,         // the assembled A with its stored Aᵀ
  pc_symbol,  // PC circulant's symbol Λ_F of F = AᵀA + εI (this rank's part; lower/hessian_structure.cpp)
  lipschitz,  // λmax of the lower-level Hessian at x = 0 for one θ (hypergrad/gradient_map.cpp)
};
constexpr int kCacheKinds = 3;
// "operator", "pc_symbol", "lipschitz": the names in status.json.
const char* cache_kind_name(CacheKind kind);

class OperatorCache {
 public:
  explicit OperatorCache(double max_mb) : max_mb_(max_mb) {}
  OperatorCache(const OperatorCache&) = delete;
  OperatorCache& operator=(const OperatorCache&) = delete;

  // The model for key with A shared (a new reference), or false. Not collective (the key is the
  // same on every rank of the grid).
  bool find(const std::string& key, ForwardModel& model);
  // Keeps a reference to model (its A and attached Aᵀ) under key, evicting the least recently
  // used entries beyond the bound. Collective over the grid's communicator (the size of the
  // largest rank's part decides, so every rank evicts alike).
  void store(MPI_Comm grid_comm, const std::string& key, const ForwardModel& model);

  // The values kept under (kind, key) (this rank's own, which may differ in length from the
  // other ranks'), or false. Collective over comm: true on every rank or on none (a hit, or a
  // miss, is counted once per call). On a hit the options of key that the computation read count
  // as read (as find() does for the options of an operator's build).
  bool find_values(MPI_Comm comm, CacheKind kind, const std::string& key, std::vector<PetscReal>& values);
  // Keeps values under (kind, key), evicting as store() does; call it right after computing
  // them (the options of key read by then are recorded). Collective over comm.
  void store_values(MPI_Comm comm, CacheKind kind, const std::string& key, const std::vector<PetscReal>& values);

  long hits(CacheKind kind = CacheKind::op) const { return counts_[static_cast<int>(kind)].hits; }
  long misses(CacheKind kind = CacheKind::op) const { return counts_[static_cast<int>(kind)].misses; }
  size_t entries(CacheKind kind = CacheKind::op) const;
  double megabytes() const;  // of every kind together (what the bound limits)

 private:
  struct Entry {
    CacheKind kind;
    std::string key;
    ForwardModel model;             // kind op
    std::vector<PetscReal> values;  // the other kinds
    double mb = 0;
    std::vector<std::string> used;  // the key's options the computation read (marked read on a hit)
  };
  struct Counts {
    long hits = 0, misses = 0;
  };
  // Puts entry first and evicts the least recently used beyond the bound (entry.mb, the
  // largest rank's, is at most the bound).
  void keep(Entry entry);
  double max_mb_;
  std::list<Entry> entries_;  // most recently used first
  std::array<Counts, kCacheKinds> counts_{};
};

// The cache create_forward_model uses (nullptr: none).
OperatorCache* active_operator_cache();

// Installs cache for its lifetime (the service holds one over all its jobs).
class ScopedOperatorCache {
 public:
  explicit ScopedOperatorCache(OperatorCache* cache);
  ~ScopedOperatorCache();
  ScopedOperatorCache(const ScopedOperatorCache&) = delete;
  ScopedOperatorCache& operator=(const ScopedOperatorCache&) = delete;

 private:
  OperatorCache* previous_;
};

// The cache key of the model the options describe on grid, or "" when it must not be cached.
// Reads the options database (the options given, not their defaults). Not collective.
std::string operator_cache_key(const ImageGrid& grid, const ProblemOptions& options);

// Appends " -name=value" (" -name" for a bare flag) for every option given in the options
// database whose name selects accepts, sorted by name (the order in the job file does not
// matter). False when one of them names a file (its name ends in "_file"): what is read from a
// file may change between jobs, so nothing built from it is cached. Not collective.
bool append_given_options(std::string& key, const std::function<bool(const std::string&)>& selects);

// x written exactly (hexadecimal floating point), for keys that must tell every bit apart.
std::string exact_number(PetscReal x);

// A model sharing source's A (a new reference) and copying its other fields.
ForwardModel share_forward_model(const ForwardModel& source);

}  // namespace bilearn
