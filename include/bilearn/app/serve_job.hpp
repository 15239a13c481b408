// One job of `bilearn serve`, run in-process on a communicator (docs/user_guide.md, "The solver
// service"): the job's own options database (the job file, nothing of the service's or of the
// previous job), the job folder as working directory (relative paths of the job resolve inside
// it), rank 0's PETSc output in job folder/output.txt, and the command of the job (train resumes
// from the folder's checkpoint when there is one). Failures become an outcome, never an exit.
#pragma once
#include <mpi.h>

#include <string>

namespace bilearn {

struct JobOutcome {
  bool ok = false;           // finished: the folder goes to done/
  bool interrupted = false;  // a train job stopped on SIGTERM/SIGUSR1 with a checkpoint: stays in running/
  std::string command;       // train | reconstruct | hypergrad ("" if the file was refused)
  std::string error;         // the one error line (without "bilearn: error: ") when !ok && !interrupted
  bool resumed = false;      // a train job continued from its checkpoint
  double seconds = 0;
};

// Runs the job in folder (absolute: running/NAME holding job.opts). Collective over comm; the
// outcome is the same on every rank. If the ranks diverge (an error on some ranks while the
// others wait in a collective) it aborts, as a standalone run does (report_error).
JobOutcome run_job(MPI_Comm comm, const std::string& folder);

// Broadcasts s from rank 0 of comm.
void broadcast_string(MPI_Comm comm, std::string& s);

}  // namespace bilearn
