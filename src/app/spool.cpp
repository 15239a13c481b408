#include "bilearn/app/spool.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include "bilearn/core/error.hpp"
#include "bilearn/io/checked_file.hpp"

namespace fs = std::filesystem;

namespace bilearn {
namespace {

const char* const kStates[] = {"incoming", "running", "done", "failed"};

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string host_name() {
  char buffer[256] = {};
  gethostname(buffer, sizeof(buffer) - 1);
  return buffer;
}

// Seconds since path was last modified (a large number if it is missing).
double age_seconds(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return 1e30;
  const auto now = std::chrono::system_clock::now().time_since_epoch();
  const double mtime = (double)st.st_mtim.tv_sec + 1e-9 * (double)st.st_mtim.tv_nsec;
  return std::chrono::duration<double>(now).count() - mtime;
}

void touch(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
  if (fd >= 0) {
    futimens(fd, nullptr);
    ::close(fd);
  }
}

// One folder of the spool: a real directory of ours that nobody else can write to.
void check_folder(const std::string& path) {
  struct stat st {};
  require(lstat(path.c_str(), &st) == 0, "spool: cannot read '" + path + "': " + std::strerror(errno));
  require(!S_ISLNK(st.st_mode), "spool: '" + path + "' is a symbolic link; a spool must be a plain folder");
  require(S_ISDIR(st.st_mode), "spool: '" + path + "' is not a folder");
  require(st.st_uid == geteuid(), "spool: '" + path + "' belongs to another user; a service runs only its own spool");
  require((st.st_mode & (S_IWGRP | S_IWOTH)) == 0,
          "spool: '" + path + "' can be written by other users (chmod go-w it): jobs are run as code of yours");
}

void make_folder(const std::string& path) {
  if (mkdir(path.c_str(), 0755) == 0) {
    chmod(path.c_str(), 0755);  // whatever the umask: never writable by group or others
    return;
  }
  require(errno == EEXIST, "spool: cannot create '" + path + "': " + std::strerror(errno));
}

// A file name for the takeover lock of a job held by owner_line.
std::string lock_name(const std::string& owner_line) {
  std::string s = "takeover-";
  for (char c : owner_line) s += std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' ? c : '_';
  return s;
}

// Creates path exclusively with text (link(2) of a temporary file: atomic, also on NFS).
bool create_exclusively(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp-" + std::to_string(getpid());
  try {
    write_file_checked(tmp, text, false);
  } catch (const std::runtime_error&) {
    unlink(tmp.c_str());
    return false;
  }
  const bool made = link(tmp.c_str(), path.c_str()) == 0;
  unlink(tmp.c_str());
  return made;
}

}  // namespace

std::string JobOwner::line() const {
  return std::string(released ? "released " : "") + host + " " + std::to_string(pid) + " " + token;
}

JobOwner JobOwner::parse(const std::string& text) {
  std::istringstream in(text);
  JobOwner o;
  std::string first;
  in >> first;
  if (first == "released") {
    o.released = true;
    in >> o.host;
  } else {
    o.host = first;
  }
  in >> o.pid >> o.token;
  return o;
}

JobOwner JobOwner::self() {
  static const std::string token = std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  JobOwner o;
  o.host = host_name();
  o.pid = static_cast<long>(getpid());
  o.token = token;
  return o;
}

void write_file_atomically(const std::string& path, const std::string& text) {
  const std::string tmp = path + ".tmp-" + std::to_string(getpid());
  try {
    write_file_checked(tmp, text, false);  // every write and the close checked (a full disk)
  } catch (const std::runtime_error& e) {
    unlink(tmp.c_str());
    throw InputError(e.what());
  }
  require(std::rename(tmp.c_str(), path.c_str()) == 0, "cannot rename '" + tmp + "' to '" + path + "'");
}

Spool::Spool(const std::string& root) {
  std::error_code ec;
  root_ = fs::absolute(root, ec).lexically_normal().string();
  while (root_.size() > 1 && root_.back() == '/') root_.pop_back();
  make_folder(root_);
  check_folder(root_);
  for (const char* state : kStates) {
    make_folder(root_ + "/" + state);
    check_folder(root_ + "/" + state);
  }
}

std::string Spool::folder(const std::string& state, const std::string& name) const {
  return root_ + "/" + state + (name.empty() ? "" : "/" + name);
}

std::vector<std::string> Spool::incoming() const {
  std::vector<std::pair<fs::file_time_type, std::string>> found;
  std::error_code ec;
  for (fs::directory_iterator it(folder("incoming", ""), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string f = it->path().filename().string();
    if (f.size() <= 5 || f[0] == '.' || f.compare(f.size() - 5, 5, ".opts") != 0) continue;
    std::error_code e2;
    if (!it->is_regular_file(e2)) continue;
    found.emplace_back(fs::last_write_time(it->path(), e2), f.substr(0, f.size() - 5));
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> names;
  for (auto& f : found) names.push_back(f.second);
  return names;
}

bool Spool::name_finished(const std::string& name) const {
  std::error_code ec;
  return fs::exists(folder("done", name), ec) || fs::exists(folder("failed", name), ec);
}

bool Spool::name_taken(const std::string& name) const {
  std::error_code ec;
  return fs::exists(folder("running", name), ec) || name_finished(name);
}

std::string Spool::claim(const std::string& name, const JobOwner& owner) const {
  // Only a finished job of the same name moves this one to NAME-2: running/NAME is the lock of
  // the claim itself. (Skipping a running/NAME made by another service's claim in progress let
  // two services race for the file under two names, and the job could run as NAME-2.)
  std::string job = name;
  for (int k = 2; name_finished(job); ++k) job = name + "-" + std::to_string(k);
  const std::string dir = folder("running", job);
  if (mkdir(dir.c_str(), 0755) != 0) return "";  // another service is claiming or running it
  chmod(dir.c_str(), 0755);
  write_file_atomically(dir + "/owner", owner.line());
  touch(dir + "/heartbeat");
  if (std::rename((folder("incoming", name) + ".opts").c_str(), (dir + "/job.opts").c_str()) != 0) {
    std::error_code ec;
    fs::remove_all(dir, ec);  // another service took the file first
    return "";
  }
  return job;
}

std::vector<std::string> Spool::orphans(double stale_seconds) const {
  const JobOwner me = JobOwner::self();
  std::vector<std::pair<double, std::string>> found;
  std::error_code ec;
  for (fs::directory_iterator it(folder("running", ""), ec), end; !ec && it != end; it.increment(ec)) {
    const std::string name = it->path().filename().string();
    const std::string dir = it->path().string();
    if (name[0] == '.') continue;
    const std::string owner_path = dir + "/owner";
    bool orphan = false;
    if (!fs::exists(owner_path, ec)) {
      orphan = age_seconds(dir) > stale_seconds;  // a claim that died before writing its owner
    } else {
      const JobOwner o = JobOwner::parse(read_text(owner_path));
      if (o.host == me.host && o.pid == me.pid && o.token == me.token) continue;
      const bool stale = age_seconds(dir + "/heartbeat") > stale_seconds && age_seconds(owner_path) > stale_seconds;
      const bool gone = o.host == me.host && kill(static_cast<pid_t>(o.pid), 0) != 0 && errno == ESRCH;
      orphan = o.released || gone || stale;
    }
    if (orphan) found.emplace_back(-age_seconds(dir), name);
  }
  std::sort(found.begin(), found.end());
  std::vector<std::string> names;
  for (auto& f : found) names.push_back(f.second);
  return names;
}

bool Spool::take_over(const std::string& name, const JobOwner& owner, double stale_seconds) const {
  const std::vector<std::string> now = orphans(stale_seconds);
  if (std::find(now.begin(), now.end(), name) == now.end()) return false;
  const std::string dir = folder("running", name);
  std::error_code ec;
  const std::string old = fs::exists(dir + "/owner", ec) ? read_text(dir + "/owner") : std::string("none");
  if (!create_exclusively(dir + "/" + lock_name(old), owner.line())) return false;  // another service was first
  if (!fs::exists(dir + "/job.opts", ec)) {
    fs::remove_all(dir, ec);  // a claim that died before it had the job: the job is still queued
    return false;
  }
  write_file_atomically(dir + "/owner", owner.line());
  touch(dir + "/heartbeat");
  return true;
}

void Spool::release(const std::string& name, const JobOwner& owner) const {
  JobOwner o = owner;
  o.released = true;
  write_file_atomically(folder("running", name) + "/owner", o.line());
}

void Spool::finish(const std::string& name, bool ok, const std::string& error_line) const {
  const std::string dir = folder("running", name);
  if (!ok) write_file_atomically(dir + "/error.txt", error_line + "\n");
  const std::string state = ok ? "done" : "failed";
  std::string target = name;
  std::error_code ec;
  for (int k = 2; fs::exists(folder(state, target), ec); ++k) target = name + "-" + std::to_string(k);
  const std::string to = folder(state, target);
  require(std::rename(dir.c_str(), to.c_str()) == 0, "spool: cannot move '" + dir + "' to '" + to + "'");
  // The bookkeeping of the running job is no output.
  for (fs::directory_iterator it(to, ec), end; !ec && it != end; it.increment(ec)) {
    const std::string f = it->path().filename().string();
    if (f == "owner" || f == "heartbeat" || f.rfind("takeover-", 0) == 0) fs::remove(it->path(), ec);
  }
}

size_t Spool::count(const std::string& state) const {
  size_t n = 0;
  std::error_code ec;
  for (fs::directory_iterator it(folder(state, ""), ec), end; !ec && it != end; it.increment(ec))
    if (it->path().filename().string()[0] != '.') ++n;
  return n;
}

void Spool::write_status(const std::string& json_text) const {
  write_file_atomically(root_ + "/status.json", json_text);
}

std::string Spool::submit(const std::string& file_name, const std::string& text) const {
  std::string base = fs::path(file_name).filename().string();
  if (base.size() > 5 && base.compare(base.size() - 5, 5, ".opts") == 0) base.resize(base.size() - 5);
  for (char& c : base)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) c = '_';
  if (base.empty() || base[0] == '.') base = "job" + base;
  std::error_code ec;
  for (int k = 1;; ++k) {
    const std::string name = k == 1 ? base : base + "-" + std::to_string(k);
    if (name_taken(name)) continue;
    if (create_exclusively(folder("incoming", name) + ".opts", text)) return name;
    require(k < 10000, "spool: cannot queue '" + file_name + "' in " + folder("incoming", ""));
  }
}

Heartbeat::Heartbeat(double seconds) : seconds_(seconds), thread_([this] { loop(); }) {}

Heartbeat::~Heartbeat() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  thread_.join();
}

void Heartbeat::add(const std::string& job_folder) {
  std::lock_guard<std::mutex> lock(mutex_);
  folders_.push_back(job_folder);
  touch(job_folder + "/heartbeat");
}

void Heartbeat::remove(const std::string& job_folder) {
  std::lock_guard<std::mutex> lock(mutex_);
  folders_.erase(std::remove(folders_.begin(), folders_.end(), job_folder), folders_.end());
}

void Heartbeat::loop() {
  auto next = std::chrono::steady_clock::now();
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      if (stop_) return;
      if (std::chrono::steady_clock::now() >= next) {
        for (const auto& f : folders_) touch(f + "/heartbeat");
        next = std::chrono::steady_clock::now() +
               std::chrono::duration_cast<std::chrono::steady_clock::duration>(std::chrono::duration<double>(seconds_));
      }
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace bilearn
