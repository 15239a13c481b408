// A job of `bilearn serve` (docs/user_guide.md, "The solver service"): a PETSc options file
// that names its command with -serve_command train|reconstruct|hypergrad. A job is data, not
// code: it may not write outside its own job folder, so every option value that could name a
// path is checked here (absolute paths, "~" and ".." are refused, except for the options that
// only read input files) and -options_file is refused (the job file holds all the options).
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace bilearn {

struct JobFile {
  std::string command;                                       // train | reconstruct | hypergrad
  std::vector<std::pair<std::string, std::string>> options;  // ("-name", "value" or "") in file order
};

// The commands a job may run.
const std::vector<std::string>& job_commands();

// Reads and checks the job file at path; throws InputError (one line naming the file, and the
// option where there is one) if it is unreadable, malformed, names no or an unknown command,
// or could write outside its folder.
JobFile parse_job_file(const std::string& path);

// The same checks on the text of a job file (name is used in the messages).
JobFile parse_job_text(const std::string& text, const std::string& name);

}  // namespace bilearn
