// The spool's claim protocol (include/bilearn/app/spool.hpp): a job keeps its queued name
// while other services race for it, and moves to NAME-2 only when a finished job holds NAME.
// The spool uses no MPI: rank 0 runs the checks, the other ranks wait.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "bilearn/app/spool.hpp"
#include "test_support.hpp"

namespace {

using bilearn::JobOwner;
using bilearn::Spool;
using bilearn_test::read_file;
using bilearn_test::world_rank;

class SpoolClaim : public bilearn_test::ScratchDirTest {
 protected:
  SpoolClaim() : ScratchDirTest("spool") {}
};

TEST_F(SpoolClaim, AClaimInProgressKeepsTheJobsName) {
  if (world_rank() != 0) return;
  const Spool spool(path("spool"));
  ASSERT_EQ(spool.submit("g1.opts", "-problem_n 16\n"), "g1");
  // Another service has made running/g1 and is about to move the job file into it.
  ASSERT_EQ(mkdir(spool.folder("running", "g1").c_str(), 0755), 0);
  EXPECT_EQ(spool.claim("g1", JobOwner::self()), "");
  EXPECT_EQ(spool.incoming(), std::vector<std::string>{"g1"});
  EXPECT_FALSE(std::filesystem::exists(spool.folder("running", "g1-2")));
  // That claim gave up (its rename lost): the job is claimed under its own name.
  std::filesystem::remove(spool.folder("running", "g1"));
  EXPECT_EQ(spool.claim("g1", JobOwner::self()), "g1");
  EXPECT_EQ(read_file(spool.folder("running", "g1") + "/job.opts"), "-problem_n 16\n");
  EXPECT_TRUE(spool.incoming().empty());
}

TEST_F(SpoolClaim, AFinishedJobOfTheSameNameMovesTheNewOneToNameDash2) {
  if (world_rank() != 0) return;
  const Spool spool(path("spool"));
  ASSERT_EQ(spool.submit("g1.opts", "-problem_n 16\n"), "g1");
  ASSERT_EQ(spool.claim("g1", JobOwner::self()), "g1");
  spool.finish("g1", true, "");
  // A job file dropped into incoming/ by hand, under the finished job's name.
  std::ofstream(spool.folder("incoming", "g1") + ".opts") << "-problem_n 8\n";
  EXPECT_EQ(spool.claim("g1", JobOwner::self()), "g1-2");
  EXPECT_EQ(read_file(spool.folder("running", "g1-2") + "/job.opts"), "-problem_n 8\n");
  EXPECT_EQ(read_file(spool.folder("done", "g1") + "/job.opts"), "-problem_n 16\n");
}

TEST_F(SpoolClaim, ConcurrentClaimersRunEachJobOnceUnderItsName) {
  if (world_rank() != 0) return;
  const Spool spool(path("spool"));
  constexpr int claimers = 4, jobs = 60;
  for (int j = 0; j < jobs; ++j) {
    const std::string name = "job" + std::to_string(j);
    ASSERT_EQ(spool.submit(name + ".opts", "-problem_n 16\n"), name);
    std::atomic<int> ready{0};
    std::vector<std::string> got(claimers);
    std::vector<std::thread> threads;
    for (int t = 0; t < claimers; ++t)
      threads.emplace_back([&, t] {
        ++ready;
        while (ready.load() < claimers) {
        }
        got[t] = spool.claim(name, JobOwner::self());
      });
    for (auto& th : threads) th.join();
    int winners = 0;
    for (const auto& g : got)
      if (!g.empty()) {
        ++winners;
        EXPECT_EQ(g, name);
      }
    EXPECT_EQ(winners, 1) << name;
  }
  EXPECT_EQ(spool.count("running"), static_cast<size_t>(jobs));
}

}  // namespace
