// bilearn serve --spool DIR [--until-empty]: a solver service inside one MPI allocation
// (docs/user_guide.md, "The solver service"). Rank 0 claims the jobs of the spool (spool.hpp)
// and broadcasts them; every rank runs each job in-process (serve_job.hpp) and rank 0 files
// it under done/ or failed/. SIGTERM/SIGUSR1 stop the running train job after its outer step
// with a checkpoint (it stays in running/, released, for the next service) and end the service
// with status 0.
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "bilearn/app/commands.hpp"
#include "bilearn/app/serve_job.hpp"
#include "bilearn/app/spool.hpp"
#include "bilearn/core/error.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/outer/stop_signal.hpp"
#include "bilearn/problem/operator_cache.hpp"

namespace bilearn {
namespace {

struct ServeOptions {
  double poll_seconds = 2;
  double heartbeat_seconds = 2;
  double stale_seconds = 30;
  double cache_mb = 1024;
  PetscInt groups = 1;
};

ServeOptions read_serve_options(MPI_Comm comm) {
  ServeOptions o;
  OptionsBlock block(comm, "", "Solver service (bilearn serve)");
  o.poll_seconds =
      block.real("-serve_poll_seconds", "seconds between two looks into an empty spool", o.poll_seconds, 0.01, 3600);
  o.heartbeat_seconds =
      block.real("-serve_heartbeat_seconds", "seconds between two touches of running/NAME/heartbeat of the running job",
                 o.heartbeat_seconds, 0.01, 3600);
  o.stale_seconds = block.real("-serve_stale_seconds",
                               "a running job whose heartbeat is older than this is taken over (its service is "
                               "presumed dead; same host: as soon as its process is gone)",
                               o.stale_seconds, 0.1, 1e6);
  o.cache_mb = block.real("-serve_cache_mb",
                          "MiB (on the rank holding the most) of assembled operators with their transposes, "
                          "preconditioner symbols and Lipschitz estimates kept together for later jobs of the same "
                          "geometry (0: none)",
                          o.cache_mb, 0, 1e9);
  o.groups = block.integer("-serve_groups",
                           "groups of ranks running jobs at once, each on its sub-communicator (must divide the ranks)",
                           o.groups, 1, 1 << 20);
  return o;
}

// What this service did, for status.json and the closing line.
struct ServiceCounts {
  int done = 0;
  int failed = 0;
  int resumed = 0;
};

std::string status_text(const Spool& spool, const ServiceCounts& counts, const OperatorCache& cache, double uptime,
                        const std::string& running, const std::string& state, int ranks) {
  const JobOwner me = JobOwner::self();
  nlohmann::json j;
  j["state"] = state;
  j["host"] = me.host;
  j["pid"] = me.pid;
  j["ranks"] = ranks;
  j["uptime_seconds"] = uptime;
  j["jobs_queued"] = spool.count("incoming");
  j["jobs_running"] = spool.count("running");
  j["jobs_done"] = spool.count("done");
  j["jobs_failed"] = spool.count("failed");
  j["running"] = running.empty() ? nlohmann::json::array() : nlohmann::json::array({running});
  j["service"] = {{"jobs_done", counts.done}, {"jobs_failed", counts.failed}, {"jobs_resumed", counts.resumed}};
  // hits, misses and operators: the operator cache's; megabytes: every kind together (the bound).
  j["cache"] = {{"hits", cache.hits()},
                {"misses", cache.misses()},
                {"operators", cache.entries()},
                {"megabytes", cache.megabytes()}};
  for (CacheKind kind : {CacheKind::pc_symbol, CacheKind::lipschitz})
    j["cache"][cache_kind_name(kind)] = {
        {"hits", cache.hits(kind)}, {"misses", cache.misses(kind)}, {"entries", cache.entries(kind)}};
  return j.dump(2) + "\n";
}

// The cache's hits and misses of every kind (CacheKind order), to tell what one job added.
struct CacheCounts {
  long hits[kCacheKinds], misses[kCacheKinds];
};

CacheCounts cache_counts(const OperatorCache& cache) {
  CacheCounts c{};
  for (int k = 0; k < kCacheKinds; ++k) {
    c.hits[k] = cache.hits(static_cast<CacheKind>(k));
    c.misses[k] = cache.misses(static_cast<CacheKind>(k));
  }
  return c;
}

// What a job found in the cache, for its log line: "; operator cache: hit" (or miss: a job
// builds one operator), then "; pc symbol cache: H hit(s), M miss(es)" and the same for the
// Lipschitz estimates, for the kinds the job looked up.
std::string job_cache_text(const CacheCounts& before, const CacheCounts& after) {
  std::string text;
  const int op = static_cast<int>(CacheKind::op);
  if (after.hits[op] > before.hits[op])
    text += "; operator cache: hit";
  else if (after.misses[op] > before.misses[op])
    text += "; operator cache: miss";
  for (CacheKind kind : {CacheKind::pc_symbol, CacheKind::lipschitz}) {
    const int k = static_cast<int>(kind);
    const long hits = after.hits[k] - before.hits[k], misses = after.misses[k] - before.misses[k];
    if (hits + misses == 0) continue;
    text += std::string("; ") + (kind == CacheKind::pc_symbol ? "pc symbol" : "lipschitz") +
            " cache: " + std::to_string(hits) + " hit(s), " + std::to_string(misses) + " miss(es)";
  }
  return text;
}

// Sleeps up to seconds, returning early once a stop signal has arrived on this rank.
void poll_sleep(double seconds) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (std::chrono::steady_clock::now() < until && !stop_signal_received())
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

// Runs the spool operation fn on rank 0 of comm; if it throws (a file system error), every rank
// throws its message, so that the service stops with one error line instead of diverging.
template <class Fn>
void on_rank0(MPI_Comm comm, Fn&& fn) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  std::string error;
  if (rank == 0) try {
      fn();
    } catch (const std::exception& e) {
      error = e.what();
    }
  broadcast_string(comm, error);
  require(error.empty(), error);
}

// PETSC_COMM_WORLD is the group's communicator while a group serves (the commands and the layers
// below build everything on PETSC_COMM_WORLD), the world's again afterwards.
class ScopedWorld {
 public:
  explicit ScopedWorld(MPI_Comm comm) : saved_(PETSC_COMM_WORLD) { PETSC_COMM_WORLD = comm; }
  ~ScopedWorld() { PETSC_COMM_WORLD = saved_; }
  ScopedWorld(const ScopedWorld&) = delete;
  ScopedWorld& operator=(const ScopedWorld&) = delete;

 private:
  MPI_Comm saved_;
};

// One group of ranks serving the spool on comm, as a service of its own (its rank 0 claims,
// owns and files its jobs). tag starts its log lines.
void serve_group(MPI_Comm comm, const CommandLine& cl, const ServeOptions& opts, const std::string& tag) {
  const double start = MPI_Wtime();
  int rank = 0, size = 1;
  MPI_Comm_rank(comm, &rank);
  MPI_Comm_size(comm, &size);
  std::unique_ptr<Spool> spool;
  on_rank0(comm, [&] { spool = std::make_unique<Spool>(cl.spool); });  // checked by the caller already
  std::unique_ptr<Heartbeat> heartbeat;
  const JobOwner me = JobOwner::self();
  if (rank == 0) heartbeat = std::make_unique<Heartbeat>(opts.heartbeat_seconds);
  const char* t = tag.c_str();
  BILEARN_CHECK(PetscPrintf(comm, "%s: spool %s, %d rank(s), pid %ld on %s%s\n", t, spool ? spool->root().c_str() : "",
                            size, me.pid, me.host.c_str(), cl.until_empty ? ", until the queue is empty" : ""));

  ServiceCounts counts;
  OperatorCache cache(opts.cache_mb);
  ScopedOperatorCache cache_in_use(&cache);
  auto status = [&](const std::string& running, const std::string& state) {
    on_rank0(comm, [&] {
      spool->write_status(status_text(*spool, counts, cache, MPI_Wtime() - start, running, state, size));
    });
  };
  status("", "idle");
  int stopped_by = 0;
  for (;;) {
    int sig = stop_signal_received();
    MPI_Allreduce(MPI_IN_PLACE, &sig, 1, MPI_INT, MPI_MAX, comm);
    if (sig) {
      stopped_by = sig;
      break;
    }
    // The next job: first one a dead or stopped service left behind, then the queue.
    std::string name, taken = "0";
    on_rank0(comm, [&] {
      for (const auto& orphan : spool->orphans(opts.stale_seconds))
        if (spool->take_over(orphan, me, opts.stale_seconds)) {
          name = orphan;
          taken = "1";
          break;
        }
      if (name.empty())
        for (const auto& queued : spool->incoming())
          if (!(name = spool->claim(queued, me)).empty()) break;
    });
    broadcast_string(comm, name);
    broadcast_string(comm, taken);
    if (name.empty()) {
      if (cl.until_empty) break;
      poll_sleep(opts.poll_seconds);
      continue;
    }
    std::string job_folder = rank == 0 ? spool->folder("running", name) : std::string();
    broadcast_string(comm, job_folder);
    if (rank == 0) heartbeat->add(job_folder);
    status(name, "running");
    BILEARN_CHECK(PetscPrintf(comm, "%s: job %s started%s\n", t, name.c_str(),
                              taken == "1" ? " (taken over from a stopped or dead service)" : ""));
    const CacheCounts before = cache_counts(cache);
    const JobOutcome outcome = run_job(comm, job_folder);
    const std::string cached = job_cache_text(before, cache_counts(cache));
    on_rank0(comm, [&] {
      heartbeat->remove(job_folder);
      if (outcome.interrupted)
        spool->release(name, me);
      else
        spool->finish(name, outcome.ok, "bilearn: error: " + outcome.error);
    });
    counts.resumed += outcome.resumed ? 1 : 0;
    if (outcome.interrupted) {
      BILEARN_CHECK(PetscPrintf(comm, "%s: job %s (%s) stopped with a checkpoint after %.2f s; it stays in running/\n",
                                t, name.c_str(), outcome.command.c_str(), outcome.seconds));
    } else if (outcome.ok) {
      ++counts.done;
      BILEARN_CHECK(PetscPrintf(comm, "%s: job %s (%s%s) done in %.2f s%s\n", t, name.c_str(), outcome.command.c_str(),
                                outcome.resumed ? ", resumed from its checkpoint" : "", outcome.seconds,
                                cached.c_str()));
    } else {
      ++counts.failed;
      BILEARN_CHECK(PetscPrintf(comm, "%s: job %s failed: %s\n", t, name.c_str(), outcome.error.c_str()));
    }
    status("", "idle");
  }
  status("", "stopped");
  const std::string why =
      stopped_by ? std::string("received ") + (stopped_by == SIGUSR1 ? "SIGUSR1" : "SIGTERM") + ", stopping"
                 : "the queue is empty";
  const CacheCounts total = cache_counts(cache);
  BILEARN_CHECK(PetscPrintf(
      comm,
      "%s: %s; %d job(s) done, %d failed, %.2f s; operator cache %ld hit(s), %ld miss(es); pc symbol cache %ld "
      "hit(s), %ld miss(es); lipschitz cache %ld hit(s), %ld miss(es)\n",
      t, why.c_str(), counts.done, counts.failed, MPI_Wtime() - start, total.hits[0], total.misses[0], total.hits[1],
      total.misses[1], total.hits[2], total.misses[2]));
}

}  // namespace

int cmd_serve(const CommandLine& cl) {
  MPI_Comm world = PETSC_COMM_WORLD;
  StopSignalGuard signals;  // outermost: the flag outlives each job's own guard
  int rank = 0, size = 1;
  MPI_Comm_rank(world, &rank);
  MPI_Comm_size(world, &size);
  const ServeOptions opts = read_serve_options(world);
  if (help_requested()) return 0;
  require(!cl.spool.empty(), "serve needs --spool DIR");
  require(size % opts.groups == 0 && opts.groups <= size,
          "-serve_groups " + std::to_string(opts.groups) + " must divide the " + std::to_string(size) + " ranks");

  // A spool others can write to is refused before anything runs (one line, from rank 0).
  on_rank0(world, [&] { Spool check(cl.spool); });

  // Contiguous groups of size/G ranks, each a service of its own on the spool.
  const int group_index = rank / (size / opts.groups);
  MPI_Comm group = MPI_COMM_NULL;
  BILEARN_CHECK(MPI_Comm_split(world, group_index, rank, &group));
  {
    ScopedWorld in_group(group);
    serve_group(group, cl, opts, opts.groups > 1 ? "serve[" + std::to_string(group_index) + "]" : "serve");
  }
  MPI_Comm_free(&group);
  // The groups end at different times: wait without spinning (the other groups' jobs need the cores).
  MPI_Request request;
  MPI_Ibarrier(world, &request);
  for (int done = 0; !done;) {
    MPI_Test(&request, &done, MPI_STATUS_IGNORE);
    if (!done) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return 0;
}

}  // namespace bilearn
