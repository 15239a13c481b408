#include "bilearn/io/json_summary.hpp"

#include <sys/resource.h>

#include <filesystem>
#include <stdexcept>

#include "bilearn/core/error.hpp"
#include "bilearn/core/reduce.hpp"
#include "bilearn/io/checked_file.hpp"

namespace bilearn {

double peak_rss_mb() {
  struct rusage usage {};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // Linux reports KiB
}

nlohmann::json base_summary(MPI_Comm comm, const std::string& command, double start_time) {
  int size = 1;
  MPI_Comm_size(comm, &size);
  nlohmann::json j;
  j["command"] = command;
  j["ranks"] = size;
  // Contract fields every summary carries; commands that evaluate L overwrite them.
  j["theta"] = nlohmann::json::array();
  j["upper_loss"] = nullptr;
  j["krylov_iterations_total"] = 0;
  j["lower_iterations_total"] = 0;
  j["wall_seconds"] = max_over_ranks(comm, MPI_Wtime() - start_time);
  j["peak_rss_mb_max_rank"] = max_over_ranks(comm, peak_rss_mb());
  return j;
}

void write_json(MPI_Comm comm, const std::string& path, const nlohmann::json& j) {
  namespace fs = std::filesystem;
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string reason;
  if (rank == 0) {
    // Written beside it and renamed: the file is the old one or the new one, never half of one
    // (a full disk, or a kill, while writing). A path that is not a regular file (/dev/stdout)
    // is written directly.
    std::error_code ec;
    const bool special = fs::exists(path, ec) && !fs::is_regular_file(path, ec);
    const std::string target = special ? path : path + ".tmp";
    try {
      write_file_checked(target, j.dump(2) + "\n", false);
      if (!special) {
        fs::rename(target, path, ec);
        if (ec) throw std::runtime_error("cannot rename '" + target + "': " + ec.message());
      }
    } catch (const std::exception& e) {
      reason = e.what();
      if (!special) fs::remove(target, ec);
    }
  }
  int ok_int = reason.empty() ? 1 : 0;
  MPI_Bcast(&ok_int, 1, MPI_INT, 0, comm);
  require(ok_int == 1, "cannot write JSON file '" + path + "'" + (reason.empty() ? "" : " (" + reason + ")"));
}

}  // namespace bilearn
