// Checkpoint/restart: a run stopped after step 3 and resumed repeats the uninterrupted run
// bit for bit (θ, losses, history); damaged checkpoints are detected and the previous one
// is used; SIGUSR1 stops the run with a checkpoint; the last two checkpoints are kept.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>

#include "analytic_problems.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/io/checked_file.hpp"
#include "bilearn/outer/checkpoint.hpp"
#include "bilearn/outer/trainer.hpp"

using namespace bilearn;
using namespace outer_test;
namespace fs = std::filesystem;

namespace {

struct Config {
  std::string label;
  std::function<std::unique_ptr<AnalyticProblem>()> make;
  OuterOptions opts;
  std::vector<PetscReal> theta0;
};

std::vector<Config> configs() {
  std::vector<Config> c;
  auto quad = [] { return std::make_unique<Quadratic>(6, 5); };
  auto noisy = [] {
    auto q = std::make_unique<Quadratic>(6, 2);
    q->noisy = true;
    return q;
  };
  auto ros = [] { return std::make_unique<Rosenbrock>(4); };
  OuterOptions gd = quiet_options("gd");
  gd.step = 2.0;
  c.push_back({"gd-armijo", quad, gd, std::vector<PetscReal>(6, -2.0)});
  OuterOptions inexact = quiet_options("gd");
  inexact.ls = "inexact";
  c.push_back({"gd-inexact", noisy, inexact, std::vector<PetscReal>(6, -2.0)});
  OuterOptions adam = quiet_options("adam");
  adam.batch_size = 2;
  adam.adam_lr = 0.1;
  c.push_back({"adam-batch", quad, adam, std::vector<PetscReal>(6, -2.0)});
  OuterOptions lbfgs = quiet_options("lbfgs");
  lbfgs.lbfgs_m = 3;
  lbfgs.adaptive_tol = true;
  c.push_back({"lbfgs-adaptive", ros, lbfgs, {-1.2, 1.0, -1.2, 1.0}});
  OuterOptions fuse = quiet_options("fuse");
  fuse.fuse_switch_it = 4;
  fuse.adam_lr = 0.05;
  fuse.batch_size = 3;
  c.push_back({"fuse", quad, fuse, std::vector<PetscReal>(6, -2.0)});
  return c;
}

// History rows without the wall-clock column (index 7).
std::vector<std::vector<std::string>> comparable_history(const std::string& path) {
  auto rows = read_csv(path);
  for (auto& r : rows)
    if (r.size() > 7) r.erase(r.begin() + 7);
  return rows;
}

void on_rank0(const std::function<void()>& f) {
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) f();
  MPI_Barrier(MPI_COMM_WORLD);
}

bool contains(const std::vector<std::string>& lines, const std::string& a, const std::string& b) {
  for (const auto& l : lines)
    if (l.find(a) != std::string::npos && l.find(b) != std::string::npos) return true;
  return false;
}

}  // namespace

TEST(OuterCheckpoint, ResumeRepeatsTheUninterruptedRunBitForBit) {
  for (Config& c : configs()) {
    TempDir tmp;
    c.opts.max_it = 8;
    c.opts.checkpoint_every = 0;  // only at the end (and it must not change the trajectory)
    auto p_full = c.make();
    TrainResult full = train(PETSC_COMM_WORLD, *p_full, c.theta0, c.opts, tmp.sub("full"));
    // "Kill" after step 3 (stop), then resume with the original budget.
    OuterOptions first = c.opts;
    first.max_it = 3;
    first.checkpoint_every = 1;
    auto p_a = c.make();
    TrainResult part = train(PETSC_COMM_WORLD, *p_a, c.theta0, first, tmp.sub("split"));
    EXPECT_EQ(part.outer_iterations, 3) << c.label;
    auto p_b = c.make();
    TrainResult rest = resume(PETSC_COMM_WORLD, *p_b, c.opts, tmp.sub("split"));
    EXPECT_EQ(rest.resumed_from, 3) << c.label;
    EXPECT_EQ(rest.outer_iterations, full.outer_iterations) << c.label;
    EXPECT_EQ(rest.theta, full.theta) << c.label;  // bitwise
    EXPECT_EQ(rest.upper_loss, full.upper_loss) << c.label;
    EXPECT_EQ(rest.initial_upper_loss, full.initial_upper_loss) << c.label;
    EXPECT_EQ(rest.armijo_backtracks_total, full.armijo_backtracks_total) << c.label;
    EXPECT_EQ(rest.krylov_iterations_total, full.krylov_iterations_total) << c.label;
    EXPECT_EQ(rest.lower_iterations_total, full.lower_iterations_total) << c.label;
    EXPECT_EQ(rest.optimizer_summary.dump(), full.optimizer_summary.dump()) << c.label;
    EXPECT_EQ(comparable_history(tmp.sub("split/history.csv")), comparable_history(tmp.sub("full/history.csv")))
        << c.label;
    EXPECT_EQ(p_b->loaded_accepts, p_a->accepts) << c.label;
    EXPECT_NE(p_b->loaded_from.find("checkpoint-000003"), std::string::npos) << c.label;
  }
}

TEST(OuterCheckpoint, DamagedLatestCheckpointIsDetectedAndThePreviousOneUsed) {
  TempDir tmp;
  OuterOptions o = quiet_options("gd");
  o.step = 2.0;
  o.max_it = 8;
  o.checkpoint_every = 0;
  Quadratic p_full(6, 5);
  const std::vector<PetscReal> theta0(6, -2.0);
  TrainResult full = train(PETSC_COMM_WORLD, p_full, theta0, o, tmp.sub("full"));

  struct Damage {
    std::string what, file, expect;
  };
  for (const Damage& d :
       {Damage{"truncate", "state.json", "truncated"}, Damage{"flip", "problem/warm_start.bin", "checksum mismatch"},
        Damage{"flip", "history.csv", "checksum mismatch"},
        Damage{"remove", "MANIFEST.json", "MANIFEST.json missing"}}) {
    const std::string dir = tmp.sub(d.what + "_" + fs::path(d.file).filename().string());
    OuterOptions first = o;
    first.max_it = 3;
    first.checkpoint_every = 1;
    Quadratic p_a(6, 5);
    train(PETSC_COMM_WORLD, p_a, theta0, first, dir);
    const std::string latest = dir + "/checkpoint/checkpoint-000003/" + d.file;
    on_rank0([&] {
      if (d.what == "truncate") {
        fs::resize_file(latest, fs::file_size(latest) / 2);
      } else if (d.what == "flip") {
        std::fstream f(latest, std::ios::in | std::ios::out | std::ios::binary);
        f.seekg(100);
        char ch = 0;
        f.read(&ch, 1);
        ch = static_cast<char>(ch ^ 0x10);
        f.seekp(100);
        f.write(&ch, 1);
      } else {
        fs::remove(latest);
      }
      // A crash while writing checkpoint 4 leaves a partial tmp directory behind.
      fs::create_directories(dir + "/checkpoint/checkpoint.tmp-000004/problem");
      std::ofstream(dir + "/checkpoint/checkpoint.tmp-000004/state.json") << "{\"trunc";
    });
    EXPECT_EQ(verify_checkpoint(dir + "/checkpoint/checkpoint-000002"), "");
    const std::string reason = verify_checkpoint(dir + "/checkpoint/checkpoint-000003");
    EXPECT_NE(reason.find(d.expect), std::string::npos) << reason;
    EXPECT_NE(reason.find(d.file == "problem/warm_start.bin" ? "warm_start.bin" : d.file), std::string::npos) << reason;

    Quadratic p_b(6, 5);
    TrainResult rest = resume(PETSC_COMM_WORLD, p_b, o, dir);
    ASSERT_EQ(rest.warnings.size(), 1u);
    EXPECT_TRUE(contains(rest.warnings, "checkpoint-000003", d.expect)) << rest.warnings[0];
    EXPECT_NE(rest.warnings[0].find("using checkpoint-000002"), std::string::npos) << rest.warnings[0];
    EXPECT_EQ(rest.resumed_from, 2);
    EXPECT_EQ(rest.theta, full.theta);  // still the same trajectory
    EXPECT_EQ(comparable_history(dir + "/history.csv"), comparable_history(tmp.sub("full/history.csv")));
    EXPECT_FALSE(fs::exists(dir + "/checkpoint/checkpoint.tmp-000004"));
  }
}

TEST(OuterCheckpoint, NoValidCheckpointIsOneClearError) {
  TempDir tmp;
  OuterOptions o = quiet_options("gd");
  o.max_it = 2;
  Quadratic p(3, 1);
  train(PETSC_COMM_WORLD, p, std::vector<PetscReal>(3, 0.0), o, tmp.path());
  on_rank0([&] {
    for (const char* n : {"checkpoint-000001", "checkpoint-000002"})
      fs::resize_file(tmp.sub(std::string("checkpoint/") + n + "/state.json"), 10);
  });
  try {
    resume(PETSC_COMM_WORLD, p, o, tmp.path());
    ADD_FAILURE() << "expected InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos);
    EXPECT_NE(m.find("no valid checkpoint in '" + tmp.sub("checkpoint") + "'"), std::string::npos) << m;
    EXPECT_NE(m.find("state.json"), std::string::npos) << m;
  }
  try {
    resume(PETSC_COMM_WORLD, p, o, tmp.sub("nothing_here"));
    ADD_FAILURE() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("no valid checkpoint"), std::string::npos) << e.what();
  }
}

TEST(OuterCheckpoint, KeepsTheLastTwoWithAnAtomicPointer) {
  TempDir tmp;
  OuterOptions o = quiet_options("lbfgs");
  o.max_it = 5;
  o.progress = true;  // exercises the progress lines (non-TTY: one line per step)
  Rosenbrock p(2);
  train(PETSC_COMM_WORLD, p, {-1.2, 1.0}, o, tmp.path());
  EXPECT_EQ(p.saves, 5);
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(tmp.sub("checkpoint"))) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"LATEST", "checkpoint-000004", "checkpoint-000005"}));
  EXPECT_EQ(read_file(tmp.sub("checkpoint/LATEST")), "checkpoint-000005\n");
  EXPECT_EQ(verify_checkpoint(tmp.sub("checkpoint/checkpoint-000005")), "");
  // history.csv: the contract header and one row per accepted step.
  const auto rows = read_csv(tmp.sub("history.csv"));
  ASSERT_EQ(rows.size(), 6u);
  EXPECT_EQ(read_file(tmp.sub("history.csv"))
                .rfind("iteration,upper_loss,grad_norm,step,backtracks,krylov_iterations,lower_iterations,seconds,", 0),
            0u);
  for (size_t k = 1; k < rows.size(); ++k) EXPECT_EQ(rows[k][0], std::to_string(k));
  // The checkpoint's own copy of the history is the file as it was then.
  EXPECT_EQ(read_file(tmp.sub("checkpoint/checkpoint-000005/history.csv")), read_file(tmp.sub("history.csv")));
  // Resuming a finished run with a larger budget continues it; with the same type only.
  OuterOptions other = o;
  other.type = "adam";
  try {
    resume(PETSC_COMM_WORLD, p, other, tmp.path());
    ADD_FAILURE() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("-outer_type lbfgs, this run uses -outer_type adam"), std::string::npos)
        << e.what();
  }
}

TEST(OuterCheckpoint, SignalStopsAfterTheStepWithACheckpointAndResumeContinues) {
  TempDir tmp;
  OuterOptions o = quiet_options("gd");
  o.step = 2.0;
  o.max_it = 8;
  o.checkpoint_every = 0;  // the signal's checkpoint is the only one
  const std::vector<PetscReal> theta0(6, -2.0);
  Quadratic p_full(6, 5);
  TrainResult full = train(PETSC_COMM_WORLD, p_full, theta0, o, tmp.sub("full"));

  Quadratic p_a(6, 5);
  p_a.raise_at_evaluation = 7;  // SIGUSR1 on rank 0 in the middle of step 2 or 3
  TrainResult part = train(PETSC_COMM_WORLD, p_a, theta0, o, tmp.sub("split"));
  EXPECT_EQ(part.stop_reason, "signal");
  EXPECT_NE(part.stop_message.find("SIGUSR1"), std::string::npos) << part.stop_message;
  EXPECT_GE(part.outer_iterations, 1);
  EXPECT_LT(part.outer_iterations, 8);
  EXPECT_EQ(p_a.saves, 1);
  EXPECT_EQ(read_file(tmp.sub("split/checkpoint/LATEST")), checkpoint_name(part.outer_iterations) + "\n");

  Quadratic p_b(6, 5);
  TrainResult rest = resume(PETSC_COMM_WORLD, p_b, o, tmp.sub("split"));
  EXPECT_EQ(rest.stop_reason, full.stop_reason);
  EXPECT_EQ(rest.theta, full.theta);
  EXPECT_EQ(comparable_history(tmp.sub("split/history.csv")), comparable_history(tmp.sub("full/history.csv")));
}

// A checkpoint that cannot be written (full disk): one error line on every rank, the partial
// checkpoint removed, the previous one and LATEST untouched; resuming from it later ends at the
// uninterrupted θ.
TEST(OuterCheckpoint, FailedCheckpointKeepsThePreviousOne) {
  TempDir tmp;
  OuterOptions o = quiet_options("gd");
  o.step = 2.0;
  o.max_it = 6;
  const std::vector<PetscReal> theta0(6, -2.0);
  Quadratic p_full(6, 5);
  TrainResult full = train(PETSC_COMM_WORLD, p_full, theta0, o, tmp.sub("full"));

  Quadratic p_a(6, 5);
  p_a.fail_save_at = 3;  // checkpoint 4
  try {
    train(PETSC_COMM_WORLD, p_a, theta0, o, tmp.sub("split"));
    ADD_FAILURE() << "expected InputError";
  } catch (const InputError& e) {
    const std::string m = e.what();
    EXPECT_EQ(m.find('\n'), std::string::npos) << m;
    EXPECT_NE(m.find("cannot write checkpoint checkpoint-000004 in '" + tmp.sub("split/checkpoint") + "'"),
              std::string::npos)
        << m;
    EXPECT_NE(m.find("No space left on device"), std::string::npos) << m;
    EXPECT_NE(m.find("the previous checkpoint is kept"), std::string::npos) << m;
  }
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(tmp.sub("split/checkpoint")))
    names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  EXPECT_EQ(names, (std::vector<std::string>{"LATEST", "checkpoint-000002", "checkpoint-000003"}));
  EXPECT_EQ(read_file(tmp.sub("split/checkpoint/LATEST")), "checkpoint-000003\n");
  EXPECT_EQ(verify_checkpoint(tmp.sub("split/checkpoint/checkpoint-000003")), "");

  Quadratic p_b(6, 5);
  TrainResult rest = resume(PETSC_COMM_WORLD, p_b, o, tmp.sub("split"));
  EXPECT_TRUE(rest.warnings.empty());
  EXPECT_EQ(rest.resumed_from, 3);
  EXPECT_EQ(rest.theta, full.theta);
}

// BILEARN_TEST_WRITE_LIMIT's in-process twin: writes fail like a full disk once the budget is
// spent (CheckedFile, used for every checkpoint file rank 0 writes); the checkpoint then fails as
// above and the previous one stays valid.
TEST(OuterCheckpoint, WriteLimitActsAsAFullDisk) {
  TempDir tmp;
  int rank = 0;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  if (rank == 0) {
    set_checked_write_limit(10);
    CheckedFile f(tmp.sub("limited.txt"));
    try {
      f.write(std::string(20, 'x'));
      ADD_FAILURE() << "expected a write error";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()), "cannot write '" + tmp.sub("limited.txt") + "': No space left on device");
    }
    set_checked_write_limit(-1);
    EXPECT_EQ(fs::file_size(tmp.sub("limited.txt")), 10u);  // a partial write, as on a full disk
  }
  OuterOptions o = quiet_options("gd");
  o.step = 2.0;
  o.max_it = 4;
  const std::vector<PetscReal> theta0(6, -2.0);
  Quadratic p_full(6, 5);
  TrainResult full = train(PETSC_COMM_WORLD, p_full, theta0, o, tmp.sub("full"));
  OuterOptions first = o;
  first.max_it = 2;
  Quadratic p_a(6, 5);
  train(PETSC_COMM_WORLD, p_a, theta0, first, tmp.sub("split"));
  set_checked_write_limit(100);  // less than state.json
  Quadratic p_b(6, 5);
  EXPECT_THROW(resume(PETSC_COMM_WORLD, p_b, o, tmp.sub("split")), InputError);
  set_checked_write_limit(-1);
  EXPECT_FALSE(fs::exists(tmp.sub("split/checkpoint/checkpoint.tmp-000003")));
  EXPECT_EQ(read_file(tmp.sub("split/checkpoint/LATEST")), "checkpoint-000002\n");
  Quadratic p_c(6, 5);
  TrainResult rest = resume(PETSC_COMM_WORLD, p_c, o, tmp.sub("split"));
  EXPECT_EQ(rest.resumed_from, 2);
  EXPECT_EQ(rest.theta, full.theta);
}

// A crash between the rename of checkpoint n's directory and the replacement of LATEST leaves
// LATEST naming n − 1: the resume takes the newest complete checkpoint, n.
TEST(OuterCheckpoint, StaleLatestPointerResumesFromTheNewestCheckpoint) {
  TempDir tmp;
  OuterOptions o = quiet_options("gd");
  o.step = 2.0;
  o.max_it = 6;
  const std::vector<PetscReal> theta0(6, -2.0);
  Quadratic p_full(6, 5);
  TrainResult full = train(PETSC_COMM_WORLD, p_full, theta0, o, tmp.sub("full"));
  OuterOptions first = o;
  first.max_it = 3;
  Quadratic p_a(6, 5);
  train(PETSC_COMM_WORLD, p_a, theta0, first, tmp.sub("split"));
  on_rank0([&] { std::ofstream(tmp.sub("split/checkpoint/LATEST")) << "checkpoint-000002\n"; });
  Quadratic p_b(6, 5);
  TrainResult rest = resume(PETSC_COMM_WORLD, p_b, o, tmp.sub("split"));
  EXPECT_TRUE(rest.warnings.empty());
  EXPECT_EQ(rest.resumed_from, 3);
  EXPECT_EQ(rest.theta, full.theta);
}
