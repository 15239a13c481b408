#include "bilearn/io/directory.hpp"

#include <filesystem>
#include <system_error>

#include "bilearn/core/error.hpp"

namespace bilearn {

void make_directory(MPI_Comm comm, const std::string& dir) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  int ok = 1;
  std::string reason;  // rank 0's, the one printed
  if (rank == 0) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    ok = (!ec && std::filesystem::is_directory(dir)) ? 1 : 0;
    if (!ok) reason = ec ? ec.message() : "a file of that name is in the way";
  }
  MPI_Bcast(&ok, 1, MPI_INT, 0, comm);
  require(ok == 1, "cannot create output directory '" + dir + "'" + (reason.empty() ? "" : " (" + reason + ")"));
}

}  // namespace bilearn
