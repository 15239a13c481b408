// Warm operators across the jobs of `bilearn serve` (docs/user_guide.md, "The solver service"):
// the assembled forward operator A with its stored transpose, kept for the next job whose
// geometry options are the same. create_forward_model consults the cache installed by
// ScopedOperatorCache (none outside the service: every command builds A afresh). The key is the
// model's options as given (-problem*, -tomo_*, -blur_*, -inpaint_*, -samples_groups), the
// image side and the ranks of the grid; models read from files (-matrix_file,
// -inpaint_mask_file) are never cached, since the file may change between jobs. A cached
// operator is the same matrix a rebuild would assemble (assembly is deterministic), so a job's
// results do not depend on a hit. The size bound counts A and Aᵀ on the rank holding the most;
// the least recently used entries go first.
#pragma once
#include <list>
#include <string>
#include <vector>

#include "bilearn/problem/forward_model.hpp"

namespace bilearn {

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

  long hits() const { return hits_; }
  long misses() const { return misses_; }
  size_t entries() const { return entries_.size(); }
  double megabytes() const;

 private:
  struct Entry {
    std::string key;
    ForwardModel model;
    double mb = 0;
    std::vector<std::string> used;  // the key's options the build read
  };
  double max_mb_;
  std::list<Entry> entries_;  // most recently used first
  long hits_ = 0, misses_ = 0;
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

// A model sharing source's A (a new reference) and copying its other fields.
ForwardModel share_forward_model(const ForwardModel& source);

}  // namespace bilearn
