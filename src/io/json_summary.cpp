#include "bilearn/io/json_summary.hpp"

#include <sys/resource.h>

#include <fstream>

#include "bilearn/core/error.hpp"
#include "bilearn/core/reduce.hpp"

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
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  bool ok = true;
  if (rank == 0) {
    std::ofstream out(path);
    if (out) out << j.dump(2) << "\n";
    ok = static_cast<bool>(out);
  }
  int ok_int = ok ? 1 : 0;
  MPI_Bcast(&ok_int, 1, MPI_INT, 0, comm);
  require(ok_int == 1, "cannot write JSON file '" + path + "'");
}

}  // namespace bilearn
