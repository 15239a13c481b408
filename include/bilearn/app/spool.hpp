// The spool folder of `bilearn serve` (docs/user_guide.md, "The solver service"):
//   incoming/NAME.opts   queued jobs (`bilearn submit` writes .NAME.opts.tmp-PID, then renames)
//   running/NAME/        a claimed job: job.opts, owner (who runs it), heartbeat, its outputs
//   done/NAME/, failed/NAME/ (with error.txt)   finished jobs
//   status.json          the last service's report (written atomically)
// Only the file system is used, with its atomic operations: a job is claimed by mkdir
// running/NAME (exclusive) followed by the rename of incoming/NAME.opts into it (only one
// rename of a file succeeds); a job whose owner is dead (same host: no such process; any host:
// a heartbeat older than the stale time) or that was released (the service stopped on a
// signal) is taken over by whoever first creates running/NAME/takeover-<old owner> (link(2),
// exclusive), so two services never run one job. Rank 0 of a service calls these; no MPI here.
#pragma once
#include <sys/types.h>

#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace bilearn {

// Who runs a job: host, process id and a token unique to the service (its start time).
struct JobOwner {
  std::string host;
  long pid = 0;
  std::string token;
  bool released = false;  // the owner stopped on a signal and handed the job back

  std::string line() const;  // the owner file's text
  static JobOwner parse(const std::string& line);
  static JobOwner self();  // this process
};

class Spool {
 public:
  // Opens (creating the folders if missing) the spool at root (made absolute). Throws
  // InputError if root or one of its folders is not a directory, is a symbolic link, belongs
  // to another user or can be written by group or others.
  explicit Spool(const std::string& root);

  const std::string& root() const { return root_; }
  std::string folder(const std::string& state, const std::string& name) const;  // e.g. running/NAME

  // The names (file names without .opts) queued in incoming/, oldest first.
  std::vector<std::string> incoming() const;
  // Claims incoming/NAME.opts for owner: returns the job's name in running/ (NAME, or NAME-2, …
  // when done/ or failed/ already hold NAME) or "" if another service was first or running/
  // holds the name (a claim in progress, or a job of that name still running: it waits).
  std::string claim(const std::string& name, const JobOwner& owner) const;
  // The names in running/ whose owner is released, dead or stale (stale_seconds without a
  // heartbeat), oldest first.
  std::vector<std::string> orphans(double stale_seconds) const;
  // Takes running/NAME over from its (dead) owner; false if another service was first.
  bool take_over(const std::string& name, const JobOwner& owner, double stale_seconds) const;
  // Hands running/NAME back (the service stops on a signal): the next service resumes it.
  void release(const std::string& name, const JobOwner& owner) const;
  // Moves running/NAME to done/NAME, or to failed/NAME with error.txt holding error_line.
  void finish(const std::string& name, bool ok, const std::string& error_line) const;

  size_t count(const std::string& state) const;  // entries of incoming/, running/, done/ or failed/
  void write_status(const std::string& json_text) const;

  // `bilearn submit`: copies the checked job file text into incoming/ atomically; returns the
  // queued name (the file's name, made unique among the spool's jobs).
  std::string submit(const std::string& file_name, const std::string& text) const;

 private:
  bool name_taken(const std::string& name) const;     // running/, done/ or failed/ hold it
  bool name_finished(const std::string& name) const;  // done/ or failed/ hold it
  std::string root_;
};

// Rank 0 of a service touches running/NAME/heartbeat of the jobs it runs every `seconds` from
// a thread of its own (the job's solvers keep the main thread busy).
class Heartbeat {
 public:
  explicit Heartbeat(double seconds);
  ~Heartbeat();
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;
  void add(const std::string& job_folder);
  void remove(const std::string& job_folder);

 private:
  void loop();
  double seconds_;
  std::mutex mutex_;
  std::vector<std::string> folders_;
  bool stop_ = false;
  std::thread thread_;
};

// Writes text to path atomically (a temporary file in the same folder, then rename).
void write_file_atomically(const std::string& path, const std::string& text);

}  // namespace bilearn
