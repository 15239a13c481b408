#include "bilearn/app/serve_job.hpp"

#include <petscsys.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>
#include <utility>
#include <vector>

#include "bilearn/app/commands.hpp"
#include "bilearn/app/job_file.hpp"
#include "bilearn/app/run_directory.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/unused_options.hpp"

namespace fs = std::filesystem;

namespace bilearn {
namespace {

// The job's options database, made the default one for its lifetime (PetscOptionsPush), so
// that no option of the service or of another job is seen and none is left behind.
class JobOptions {
 public:
  // options: the job file's (name, value) pairs as parse_job_file read them on rank 0, the same
  // on every rank (inserted as PetscOptionsInsertFile would: one option per line).
  explicit JobOptions(const std::vector<std::pair<std::string, std::string>>& options) {
    BILEARN_CHECK(PetscOptionsCreate(&options_));
    for (const auto& [name, value] : options) {
      const PetscErrorCode ierr = PetscOptionsSetValue(options_, name.c_str(), value.empty() ? nullptr : value.c_str());
      if (ierr) {
        PetscOptionsDestroy(&options_);
        BILEARN_CHECK(ierr);
      }
    }
    BILEARN_CHECK(PetscOptionsPush(options_));
  }
  ~JobOptions() {
    PetscOptionsPop();
    PetscOptionsDestroy(&options_);
  }
  JobOptions(const JobOptions&) = delete;
  JobOptions& operator=(const JobOptions&) = delete;

 private:
  PetscOptions options_ = nullptr;
};

// The job folder as working directory (every rank).
class WorkingDirectory {
 public:
  explicit WorkingDirectory(const std::string& dir) : saved_(fs::current_path().string()) {
    require(chdir(dir.c_str()) == 0, "cannot enter the job folder '" + dir + "'");
  }
  ~WorkingDirectory() {
    if (chdir(saved_.c_str()) != 0) std::perror("bilearn serve: chdir back");
  }
  WorkingDirectory(const WorkingDirectory&) = delete;
  WorkingDirectory& operator=(const WorkingDirectory&) = delete;

 private:
  std::string saved_;
};

// PetscPrintf's output (rank 0) into the job's output.txt.
class JobOutput {
 public:
  JobOutput(MPI_Comm comm, const std::string& path) {
    int rank = 0;
    MPI_Comm_rank(comm, &rank);
    if (rank != 0) return;
    file_ = std::fopen(path.c_str(), "a");
    if (!file_) return;
    saved_ = PETSC_STDOUT;
    PETSC_STDOUT = file_;
  }
  ~JobOutput() {
    if (!file_) return;
    PETSC_STDOUT = saved_;
    std::fclose(file_);
  }
  JobOutput(const JobOutput&) = delete;
  JobOutput& operator=(const JobOutput&) = delete;

 private:
  FILE* file_ = nullptr;
  FILE* saved_ = nullptr;
};

// After a job threw on some ranks: do the others arrive? (as report_error: 5 s, else the ranks
// have diverged and the service cannot go on.)
void wait_for_all_or_abort(MPI_Comm comm, bool failed, const std::string& error) {
  MPI_Request request;
  MPI_Ibarrier(comm, &request);
  int done = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (!done && (!failed || std::chrono::steady_clock::now() < deadline)) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (done) return;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::fprintf(stderr, "bilearn: error: %s (rank %d; the ranks diverged, aborting the service)\n", error.c_str(), rank);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, 1);
}

std::string stop_reason_of(const std::string& summary) {
  std::ifstream in(summary);
  if (!in.good()) return "";
  try {
    nlohmann::json j;
    in >> j;
    return j.value("stop_reason", "");
  } catch (const std::exception&) {
    return "";
  }
}

}  // namespace

void broadcast_string(MPI_Comm comm, std::string& s) {
  int n = static_cast<int>(s.size());
  MPI_Bcast(&n, 1, MPI_INT, 0, comm);
  s.resize(static_cast<size_t>(n));
  MPI_Bcast(s.data(), n, MPI_CHAR, 0, comm);
}

JobOutcome run_job(MPI_Comm comm, const std::string& folder) {
  const double start = MPI_Wtime();
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  JobOutcome outcome;
  const std::string file = folder + "/job.opts";

  // Rank 0 checks the file and chooses how the command starts; the others follow.
  std::string error, mode, packed;  // packed: name '\n' value '\n' … of the job's options
  if (rank == 0) {
    try {
      const JobFile job = parse_job_file(file);
      outcome.command = job.command;
      for (const auto& [name, value] : job.options) packed += name + '\n' + value + '\n';
      std::error_code ec;
      if (outcome.command == "train" && fs::exists(folder + "/checkpoint/LATEST", ec))
        mode = "resume";
      else if (!earlier_run_files(folder).empty())
        mode = "force";  // an earlier attempt died before its first checkpoint
      else
        mode = "fresh";
    } catch (const std::exception& e) {
      error = e.what();
    }
  }
  broadcast_string(comm, error);
  broadcast_string(comm, outcome.command);
  broadcast_string(comm, mode);
  broadcast_string(comm, packed);
  std::vector<std::pair<std::string, std::string>> options;
  for (size_t at = 0; at < packed.size();) {
    const size_t a = packed.find('\n', at), b = packed.find('\n', a + 1);
    options.emplace_back(packed.substr(at, a - at), packed.substr(a + 1, b - a - 1));
    at = b + 1;
  }
  if (!error.empty()) {
    outcome.error = error;
    outcome.seconds = MPI_Wtime() - start;
    return outcome;
  }

  CommandLine cl;
  cl.command = outcome.command;
  if (mode == "resume") {
    cl.resume = folder;
    outcome.resumed = true;
  } else {
    cl.out = folder;
    cl.force = mode == "force";
  }
  if (cl.command != "train") cl.json = folder + "/summary.json";

  bool failed = false;
  try {
    JobOptions job_options(options);
    WorkingDirectory cwd(folder);
    JobOutput output(comm, folder + "/output.txt");
    char command[64] = {};
    BILEARN_CHECK(PetscOptionsGetString(nullptr, nullptr, "-serve_command", command, sizeof(command), nullptr));
    const int status = run_command(cl);
    require(status == 0, cl.command + " exited with status " + std::to_string(status));
    check_unused_options(comm);  // -strict_options in the job: an unknown option fails it
  } catch (const std::exception& e) {
    failed = true;
    error = e.what();
  }
  wait_for_all_or_abort(comm, failed, error);
  // The first failing rank's message.
  int first = failed ? rank : size;
  MPI_Allreduce(MPI_IN_PLACE, &first, 1, MPI_INT, MPI_MIN, comm);
  if (first < size) {
    MPI_Bcast(&first, 1, MPI_INT, 0, comm);
    int n = static_cast<int>(error.size());
    MPI_Bcast(&n, 1, MPI_INT, first, comm);
    error.resize(static_cast<size_t>(n));
    MPI_Bcast(error.data(), n, MPI_CHAR, first, comm);
    for (char& c : error)
      if (c == '\n') c = ' ';
    outcome.error = error;
  } else {
    // A train job that stopped on a signal keeps its folder in running/ for the next service.
    std::string reason;
    if (rank == 0 && cl.command == "train") reason = stop_reason_of(folder + "/summary.json");
    broadcast_string(comm, reason);
    outcome.interrupted = reason == "signal";
    outcome.ok = !outcome.interrupted;
  }
  outcome.seconds = MPI_Wtime() - start;
  return outcome;
}

}  // namespace bilearn
