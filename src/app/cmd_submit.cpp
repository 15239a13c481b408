// bilearn submit --spool DIR FILE.opts: checks the job file (job_file.hpp: a malformed or
// unsafe job is one error line here, not a failed job later) and queues it in DIR/incoming/
// atomically (spool.hpp).
#include <fstream>
#include <sstream>

#include "bilearn/app/commands.hpp"
#include "bilearn/app/job_file.hpp"
#include "bilearn/app/serve_job.hpp"
#include "bilearn/app/spool.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"

namespace bilearn {

int cmd_submit(const CommandLine& cl) {
  MPI_Comm comm = PETSC_COMM_WORLD;
  if (help_requested()) return 0;
  require(!cl.spool.empty(), "submit needs --spool DIR");
  require(!cl.subcommand.empty(), "submit needs the job file: bilearn submit --spool DIR FILE.opts");
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string error, name;
  if (rank == 0) try {
      parse_job_file(cl.subcommand);  // a malformed or unsafe job is refused here already
      std::ifstream in(cl.subcommand, std::ios::binary);
      std::ostringstream text;
      text << in.rdbuf();
      name = Spool(cl.spool).submit(cl.subcommand, text.str());
    } catch (const std::exception& e) {
      error = e.what();
    }
  broadcast_string(comm, error);
  require(error.empty(), error);
  broadcast_string(comm, name);
  BILEARN_CHECK(PetscPrintf(comm, "submitted %s\n", name.c_str()));
  return 0;
}

}  // namespace bilearn
