// The service's cache (operator_cache.hpp): values derived from a geometry (PC circulant's
// symbol, Lipschitz estimates) beside the operators under one bound, least recently used first
// out, hits and misses counted per kind, a find that agrees on every rank, and the keys: options
// as given (a file keeps a key out) and numbers written exactly.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "bilearn/core/error.hpp"
#include "bilearn/problem/operator_cache.hpp"
#include "test_support.hpp"

using namespace bilearn;

namespace {

using bilearn_test::ScopedOptions;

const std::vector<PetscReal> kValues(1000, 0.5);  // 8000 bytes: about 0.0077 MiB with its key

bool find(OperatorCache& cache, CacheKind kind, const std::string& key) {
  std::vector<PetscReal> v;
  return cache.find_values(PETSC_COMM_WORLD, kind, key, v);
}

}  // namespace

TEST(OperatorCache, ValuesOfEveryKindShareOneBoundLeastRecentlyUsedFirstOut) {
  OperatorCache cache(0.02);  // two such entries, not three
  cache.store_values(PETSC_COMM_WORLD, CacheKind::pc_symbol, "a", kValues);
  cache.store_values(PETSC_COMM_WORLD, CacheKind::lipschitz, "b", kValues);
  std::vector<PetscReal> got;
  ASSERT_TRUE(cache.find_values(PETSC_COMM_WORLD, CacheKind::pc_symbol, "a", got));  // now the most recent
  EXPECT_EQ(got, kValues);
  EXPECT_FALSE(find(cache, CacheKind::lipschitz, "a"));  // the kind is part of the key
  cache.store_values(PETSC_COMM_WORLD, CacheKind::pc_symbol, "c", kValues);
  EXPECT_EQ(cache.entries(CacheKind::pc_symbol), 2u);
  EXPECT_EQ(cache.entries(CacheKind::lipschitz), 0u);  // b went first
  EXPECT_FALSE(find(cache, CacheKind::lipschitz, "b"));
  EXPECT_TRUE(find(cache, CacheKind::pc_symbol, "c"));
  EXPECT_LE(cache.megabytes(), 0.02);
  EXPECT_EQ(cache.hits(CacheKind::pc_symbol), 2);
  EXPECT_EQ(cache.misses(CacheKind::pc_symbol), 0);
  EXPECT_EQ(cache.hits(CacheKind::lipschitz), 0);
  EXPECT_EQ(cache.misses(CacheKind::lipschitz), 2);
  EXPECT_EQ(cache.hits(), 0);  // the operators' counts are apart
  EXPECT_EQ(cache.misses(), 0);
}

TEST(OperatorCache, AnOperatorIsEvictedByValuesBeyondTheBound) {
  ImageGrid grid(PETSC_COMM_WORLD, 16);
  ProblemOptions options;
  options.type = "tomo";
  options.n = 16;
  ForwardModel model = create_forward_model(grid, options);
  double operator_mb = 0;
  {
    OperatorCache measure(1e9);
    measure.store(grid.comm(), "op", model);
    operator_mb = measure.megabytes();
  }
  ASSERT_GT(operator_mb, 0.01);
  OperatorCache cache(operator_mb + 0.004);  // the operator and a little, not one 0.0077 MiB symbol
  cache.store(grid.comm(), "op", model);
  EXPECT_EQ(cache.entries(), 1u);
  cache.store_values(grid.comm(), CacheKind::pc_symbol, "op | symbol", kValues);
  EXPECT_EQ(cache.entries(), 0u);
  EXPECT_EQ(cache.entries(CacheKind::pc_symbol), 1u);
  ForwardModel again;
  EXPECT_FALSE(cache.find("op", again));
}

TEST(OperatorCache, NothingKeptUnderABoundOfZero) {
  OperatorCache cache(0);
  cache.store_values(PETSC_COMM_WORLD, CacheKind::lipschitz, "x", {1.0});
  EXPECT_EQ(cache.entries(CacheKind::lipschitz), 0u);
  EXPECT_FALSE(find(cache, CacheKind::lipschitz, "x"));
  EXPECT_EQ(cache.megabytes(), 0.0);
}

TEST(OperatorCache, AFindAgreesOnEveryRank) {
  // Kept by rank 0 alone (on its own communicator): a miss on every rank of the world unless
  // rank 0 is all of it, never a hit on some ranks and a miss on others.
  OperatorCache cache(1);
  if (bilearn_test::world_rank() == 0) cache.store_values(PETSC_COMM_SELF, CacheKind::pc_symbol, "k", kValues);
  int size = 1;
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  EXPECT_EQ(find(cache, CacheKind::pc_symbol, "k"), size == 1);
}

TEST(OperatorCache, KeysHoldTheOptionsAsGivenSortedAndRefuseFiles) {
  ScopedOptions given({{"-reg_type", "foe"}, {"-reg_foe_gamma", "0.02"}, {"-reg_theta", "-1"}, {"-outer_max_it", "3"}});
  auto reg_but_theta = [](const std::string& o) { return o.rfind("-reg_", 0) == 0 && o != "-reg_theta"; };
  std::string key = "k";
  ASSERT_TRUE(append_given_options(key, reg_but_theta));
  EXPECT_EQ(key, "k -reg_foe_gamma=0.02 -reg_type=foe");
  ScopedOptions file({{"-reg_foe_filter_file", "filters.txt"}});
  std::string with_file = "k";
  EXPECT_FALSE(append_given_options(with_file, reg_but_theta));
}

TEST(OperatorCache, ExactNumbersTellEveryBitApart) {
  EXPECT_NE(exact_number(1.0), exact_number(std::nextafter(1.0, 2.0)));
  EXPECT_EQ(exact_number(0.1), exact_number(0.1));
}
