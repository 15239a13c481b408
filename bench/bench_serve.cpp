// bilearn bench serve: what the solver service saves (docs/user_guide.md, "The solver service").
// -bench_jobs small tomography train jobs of one geometry (-bench_n, -bench_angles; the jobs
// differ in their training set, -data_seed) are run three ways, side by side, each on
// -bench_ranks ranks:
//   standalone    one `mpiexec bilearn train` per job
//   service       one `mpiexec bilearn serve --until-empty` for all, -serve_cache_mb 0 (no cache)
//   service+cache the same with the operator cache
// The table gives the total wall time of each (fastest of -bench_repeats), the per-job overhead
// (wall time beyond the jobs' own seconds), the part saved by the service's start-up and by the
// cache, and the operator assemblies (a cache miss is one); every job's θ must be the same in the
// three ways. The runs are separate processes started by the benchmark (itself on one rank).
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "bench.hpp"
#include "bilearn/core/options.hpp"
#include "bilearn/io/json_summary.hpp"

namespace fs = std::filesystem;

namespace bilearn {
namespace {

struct ServeBenchOptions {
  PetscInt jobs = 8, ranks = 2, n = 32, angles = 60, outer_it = 2, repeats = 1;
  std::string mpiexec;
};

ServeBenchOptions read_options() {
  ServeBenchOptions o;
  OptionsBlock block(PETSC_COMM_WORLD, "", "bench serve");
  o.jobs = block.integer("-bench_jobs", "number of train jobs", o.jobs, 1, 1000);
  o.ranks = block.integer("-bench_ranks", "ranks of every run", o.ranks, 1, 4096);
  o.n = block.integer("-bench_n", "image side N of the jobs", o.n, 8, 4096);
  o.angles = block.integer("-bench_angles", "tomography angles of the jobs", o.angles, 1, 100000);
  o.outer_it = block.integer("-bench_outer_it", "outer steps of every job", o.outer_it, 1, 1000);
  o.repeats = block.integer("-bench_repeats", "runs of each way (the fastest counts)", o.repeats, 1, 100);
  o.mpiexec = block.string("-bench_mpiexec",
                           "launcher and its flags (default: mpiexec --oversubscribe, "
                           "and --allow-run-as-root as root)",
                           "");
  return o;
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

// Runs a shell command line with a clean MPI environment (no variable of this process's own
// launch leaks into the child's mpiexec); returns its wall seconds. Throws if it fails.
double timed(const std::string& line, const std::string& log) {
  const std::string clean = "env $(env | sed -n 's/^\\(\\(OMPI\\|PMIX\\|ORTE\\|OPAL\\)_[^=]*\\)=.*/-u \\1/p') ";
  const double t0 = MPI_Wtime();
  const int status = std::system((clean + line + " >" + quote(log) + " 2>&1").c_str());
  const double t = MPI_Wtime() - t0;
  require(status == 0, "bench serve: a run failed (see " + log + ")");
  return t;
}

std::string theta_of(const std::string& summary) {
  std::ifstream in(summary);
  require(in.good(), "bench serve: no " + summary);
  nlohmann::json j;
  in >> j;
  return j["theta"].dump();
}

// Σ of the "done in X s" of a service log (the jobs' own seconds).
double job_seconds(const std::string& log) {
  std::ifstream in(log);
  const std::regex done(R"(serve: job \S+ \(.*\) done in ([0-9.]+) s)");
  double total = 0;
  std::smatch m;
  for (std::string line; std::getline(in, line);)
    if (std::regex_search(line, m, done)) total += std::stod(m[1]);
  return total;
}

}  // namespace

int bench_serve(const CommandLine& cl) {
  const ServeBenchOptions o = read_options();
  if (help_requested()) return 0;
  int rank = 0, size = 1;
  MPI_Comm_rank(PETSC_COMM_WORLD, &rank);
  MPI_Comm_size(PETSC_COMM_WORLD, &size);
  require(size == 1, "bench serve runs on one rank (it launches its runs itself, on -bench_ranks ranks)");
  nlohmann::json j = base_summary(PETSC_COMM_WORLD, "bench serve", MPI_Wtime());
  if (rank == 0) {
    std::string mpiexec = o.mpiexec;
    if (mpiexec.empty())
      mpiexec = std::string("mpiexec --oversubscribe") + (geteuid() == 0 ? " --allow-run-as-root" : "");
    const std::string exe = fs::read_symlink("/proc/self/exe").string();
    const std::string launch = mpiexec + " -n " + std::to_string(o.ranks) + " " + quote(exe);
    const fs::path root = fs::temp_directory_path() / ("bilearn-bench-serve-" + std::to_string(getpid()));
    fs::create_directories(root);
    fs::permissions(root, fs::perms::owner_all);
    auto options = [&](PetscInt k) {
      std::vector<std::string> v = {
          "-problem tomo",   "-problem_n " + std::to_string(o.n),   "-tomo_angles " + std::to_string(o.angles),
          "-data_samples 2", "-data_seed " + std::to_string(1 + k), "-outer_max_it " + std::to_string(o.outer_it)};
      return v;
    };
    double best[3] = {1e300, 1e300, 1e300}, inside[3] = {0, 0, 0};
    long assemblies[3] = {o.jobs, 0, 0};  // of A (and Aᵀ): every standalone run assembles its own
    std::vector<std::string> theta[3];
    for (PetscInt r = 0; r < o.repeats; ++r) {
      // Standalone: one launch per job.
      double total = 0, own = 0;
      theta[0].clear();
      for (PetscInt k = 0; k < o.jobs; ++k) {
        const std::string out = (root / ("standalone-" + std::to_string(k))).string();
        std::string line = launch + " train --force --out " + quote(out);
        for (const auto& opt : options(k)) line += " " + opt;
        total += timed(line, out + ".log");
        std::ifstream in(out + "/summary.json");
        nlohmann::json s;
        in >> s;
        own += s.value("wall_seconds", 0.0);
        theta[0].push_back(theta_of(out + "/summary.json"));
      }
      if (total < best[0]) best[0] = total, inside[0] = own;
      // The service, without and with its cache.
      for (int way = 1; way <= 2; ++way) {
        const fs::path spool = root / ("spool-" + std::to_string(way) + "-" + std::to_string(r));
        fs::create_directories(spool / "incoming");
        fs::permissions(spool, fs::perms::owner_all | fs::perms::group_read | fs::perms::others_read);
        fs::permissions(spool / "incoming", fs::perms::owner_all);
        for (PetscInt k = 0; k < o.jobs; ++k) {
          char name[32];
          std::snprintf(name, sizeof(name), "job%03d", (int)k);
          std::ofstream f(spool / "incoming" / (std::string(name) + ".opts"));
          f << "-serve_command train\n";
          for (const auto& opt : options(k)) f << opt << "\n";
        }
        const std::string log = spool.string() + ".log";
        const double t = timed(
            launch + " serve --until-empty --spool " + quote(spool.string()) + (way == 1 ? " -serve_cache_mb 0" : ""),
            log);
        if (t < best[way]) best[way] = t, inside[way] = job_seconds(log);
        std::ifstream status(spool / "status.json");
        nlohmann::json st;
        status >> st;
        assemblies[way] = st["cache"]["misses"].get<long>();  // a miss is an assembly
        theta[way].clear();
        for (PetscInt k = 0; k < o.jobs; ++k) {
          char name[32];
          std::snprintf(name, sizeof(name), "job%03d", (int)k);
          theta[way].push_back(theta_of((spool / "done" / name / "summary.json").string()));
        }
      }
    }
    const bool equal = theta[0] == theta[1] && theta[0] == theta[2];
    const double jobs = static_cast<double>(o.jobs);
    std::printf(
        "bench serve: %d train jobs (tomo N = %d, %d angles, 2 samples, %d outer steps) on %d rank(s), "
        "fastest of %d\n",
        (int)o.jobs, (int)o.n, (int)o.angles, (int)o.outer_it, (int)o.ranks, (int)o.repeats);
    std::printf("  %-22s %10s %12s %14s %10s %11s\n", "way", "wall s", "jobs' own s", "overhead/job s", "vs first",
                "assemblies");
    const char* names[3] = {"standalone mpiexec", "service, no cache", "service + cache"};
    for (int w = 0; w < 3; ++w)
      std::printf("  %-22s %10.2f %12.2f %14.3f %9.2fx %11ld\n", names[w], best[w], inside[w],
                  (best[w] - inside[w]) / jobs, best[0] / best[w], assemblies[w]);
    std::printf("  saved by the service's one start-up: %.2f s (%.3f s per job)\n", best[0] - best[1],
                (best[0] - best[1]) / jobs);
    std::printf("  saved by the operator cache:         %.2f s (%.3f s per job)\n", best[1] - best[2],
                (best[1] - best[2]) / jobs);
    std::printf("  theta of every job equal in the three ways: %s\n", equal ? "yes" : "NO");
    std::fflush(stdout);
    j["jobs"] = o.jobs;
    j["ranks_per_run"] = o.ranks;
    j["n"] = o.n;
    j["wall_seconds_standalone"] = best[0];
    j["wall_seconds_service_no_cache"] = best[1];
    j["wall_seconds_service_cache"] = best[2];
    j["job_seconds"] = {inside[0], inside[1], inside[2]};
    j["operator_assemblies"] = {assemblies[0], assemblies[1], assemblies[2]};
    j["theta_equal"] = equal;
    std::error_code ec;
    fs::remove_all(root, ec);
    require(equal, "bench serve: a job's theta differs between the ways");
  }
  if (!cl.json.empty()) write_json(PETSC_COMM_WORLD, cl.json, j);
  return 0;
}

}  // namespace bilearn
