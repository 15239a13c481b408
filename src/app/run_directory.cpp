#include "bilearn/app/run_directory.hpp"

#include <petscsys.h>

#include <algorithm>
#include <filesystem>
#include <system_error>

#include "bilearn/core/error.hpp"

namespace fs = std::filesystem;

namespace bilearn {
namespace {

// What train writes: summary.json, history.csv/.png and reconstructions.png, the PNGs of the
// pictured samples (truth_, initial_, learned_) and the checkpoint folder.
bool is_png_of(const std::string& name, const std::string& prefix) {
  return name.size() > prefix.size() + 4 && name.rfind(prefix, 0) == 0 && name.compare(name.size() - 4, 4, ".png") == 0;
}

bool is_run_file(const std::string& name) {
  for (const char* fixed : {"summary.json", "history.csv", "history.png", "reconstructions.png", "checkpoint"})
    if (name == fixed) return true;
  return is_png_of(name, "truth_") || is_png_of(name, "initial_") || is_png_of(name, "learned_");
}

// The files that show a run was started there (a directory holding only truth PNGs, e.g.
// from `phantom`, is not a run).
bool marks_a_run(const std::string& name) {
  return name == "summary.json" || name == "history.csv" || name == "checkpoint" || is_png_of(name, "initial_");
}

}  // namespace

std::vector<std::string> earlier_run_files(const std::string& dir) {
  std::vector<std::string> found;
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) return found;
  bool started = false;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (is_run_file(name)) found.push_back(name);
    started = started || marks_a_run(name);
  }
  if (!started) found.clear();
  std::sort(found.begin(), found.end());
  return found;
}

namespace {

// Whether the started run in dir holds something of value: summary.json (it finished) or a
// checkpoint-<n> folder (it can be resumed; checkpoint.tmp-* are partial writes). Without either,
// what a run left (initial PNGs, a history no checkpoint can continue) is replaced.
bool holds_value(const fs::path& dir) {
  std::error_code ec;
  if (fs::exists(dir / "summary.json", ec)) return true;
  for (fs::directory_iterator it(dir / "checkpoint", ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string().rfind("checkpoint-", 0) == 0) return true;
  return false;
}

}  // namespace

bool refuse_earlier_run(MPI_Comm comm, const std::string& dir, bool force) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  int verdict[2] = {0, 0};  // a started run, one of value
  std::string listed;
  if (rank == 0 && !force) {
    // Named by the files that mark a run: summary.json, history.csv, checkpoint/, initial_*.png.
    bool initial_listed = false;
    for (const auto& f : earlier_run_files(dir)) {
      if (!marks_a_run(f) || (is_png_of(f, "initial_") && initial_listed)) continue;
      initial_listed = initial_listed || is_png_of(f, "initial_");
      const std::string shown = f == "checkpoint" ? "checkpoint/" : is_png_of(f, "initial_") ? "initial_*.png" : f;
      listed += (listed.empty() ? "" : ", ") + shown;
      verdict[0] = 1;
    }
    verdict[1] = verdict[0] && holds_value(dir);
  }
  MPI_Bcast(verdict, 2, MPI_INT, 0, comm);
  require(verdict[1] == 0, "'" + dir + "' holds an earlier run (" + listed + "); continue it with --resume " + dir +
                               " or replace it with --force");
  if (verdict[0] == 1)
    BILEARN_CHECK(PetscPrintf(comm,
                              "train: '%s' holds only the leftovers of a run that stopped before its first checkpoint "
                              "(%s): they are replaced\n",
                              dir.c_str(), listed.c_str()));
  return verdict[0] == 1;
}

void remove_earlier_run(MPI_Comm comm, const std::string& dir) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  int ok = 1;
  std::string failed;
  if (rank == 0)
    for (const auto& f : earlier_run_files(dir)) {
      std::error_code ec;
      fs::remove_all(fs::path(dir) / f, ec);
      if (ec && ok) {
        ok = 0;
        failed = f + ": " + ec.message();
      }
    }
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  require(ok == 1, "--force could not remove the earlier run in '" + dir + "' (" + failed + ")");
}

}  // namespace bilearn
