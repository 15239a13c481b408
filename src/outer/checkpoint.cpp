#include "bilearn/outer/checkpoint.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "bilearn/core/error.hpp"
#include "bilearn/core/log.hpp"
#include "bilearn/io/checked_file.hpp"
#include "bilearn/outer/state_codec.hpp"

namespace fs = std::filesystem;

namespace bilearn {
namespace {

constexpr const char* format_tag = "bilearn-checkpoint-1";
constexpr const char* prefix = "checkpoint-";

// Rank 0's verdict and message, identical on every rank afterwards; throws InputError if bad.
void share_verdict(MPI_Comm comm, bool ok, const std::string& message) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  int flag = ok ? 1 : 0;
  MPI_Bcast(&flag, 1, MPI_INT, 0, comm);
  if (flag) return;
  std::string m = message;
  int len = rank == 0 ? static_cast<int>(m.size()) : 0;
  MPI_Bcast(&len, 1, MPI_INT, 0, comm);
  m.resize(static_cast<size_t>(len));
  MPI_Bcast(m.data(), len, MPI_CHAR, 0, comm);
  throw InputError(m);
}

void broadcast_string(MPI_Comm comm, std::string& s) {
  long long len = static_cast<long long>(s.size());
  MPI_Bcast(&len, 1, MPI_LONG_LONG, 0, comm);
  s.resize(static_cast<size_t>(len));
  if (len > 0) MPI_Bcast(s.data(), static_cast<int>(len), MPI_CHAR, 0, comm);
}

void fsync_path(const fs::path& p) {
  const int fd = ::open(p.c_str(), O_RDONLY);
  if (fd < 0) throw std::runtime_error("cannot open '" + p.string() + "' to sync it");
  const int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) throw std::runtime_error("cannot sync '" + p.string() + "'");
}

// Writes text to path: complete and synced to disk, or an exception naming the file and the
// system's reason (CheckedFile).
void write_synced(const fs::path& path, const std::string& text) {
  write_file_checked(path.string(), text, true);
}

bool read_text(const fs::path& path, std::string& text) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::ostringstream ss;
  ss << in.rdbuf();
  text = ss.str();
  return true;
}

// Checksum of a file read in blocks; false if unreadable.
bool file_checksum(const fs::path& path, std::uint64_t& h, std::uintmax_t& size) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::vector<char> buf(1 << 22);
  h = checksum_seed;
  size = 0;
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    const auto got = static_cast<std::size_t>(in.gcount());
    // Checksum block by block: carry the running value (a block boundary is a multiple of 8).
    h = checksum(buf.data(), got, h);
    size += got;
  }
  return in.eof();
}

// Regular files under dir, relative paths sorted, MANIFEST.json excluded.
std::vector<std::string> list_files(const fs::path& dir) {
  std::vector<std::string> files;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) {
      const std::string rel = fs::relative(e.path(), dir).generic_string();
      if (rel != "MANIFEST.json") files.push_back(rel);
    }
  std::sort(files.begin(), files.end());
  return files;
}

// Number n of a "checkpoint-<n>" name, or -1.
PetscInt checkpoint_number(const std::string& name) {
  if (name.rfind(prefix, 0) != 0) return -1;
  const std::string digits = name.substr(std::char_traits<char>::length(prefix));
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos) return -1;
  return static_cast<PetscInt>(std::stoll(digits));
}

std::vector<PetscInt> existing_checkpoints(const fs::path& root) {
  std::vector<PetscInt> ns;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    const PetscInt n = checkpoint_number(e.path().filename().string());
    if (n >= 0 && e.is_directory()) ns.push_back(n);
  }
  std::sort(ns.rbegin(), ns.rend());
  return ns;
}

// Removes the checkpoint folder root/name without ever leaving half of it under its name (a
// kill during remove_all would): renamed to a checkpoint.tmp-* name first, which readers ignore
// and the next checkpoint removes.
void discard(const fs::path& root, const std::string& name) {
  const fs::path doomed = root / ("checkpoint.tmp-removed-" + name);
  std::error_code ec;
  fs::remove_all(doomed, ec);
  fs::rename(root / name, doomed);
  fs::remove_all(doomed, ec);
}

void write_on_rank0(const fs::path& root, PetscInt n, const nlohmann::json& state, const std::string& history,
                    const fs::path& tmp, PetscInt keep) {
  write_file_checked((tmp / "state.json").string(), state.dump(1) + "\n", false);  // synced with the others below
  write_file_checked((tmp / "history.csv").string(), history, false);
  nlohmann::json files = nlohmann::json::array();
  for (const auto& rel : list_files(tmp)) {
    std::uint64_t h = 0;
    std::uintmax_t size = 0;
    if (!file_checksum(tmp / rel, h, size)) throw std::runtime_error("cannot read back '" + (tmp / rel).string() + "'");
    fsync_path(tmp / rel);
    files.push_back({{"path", rel}, {"size", size}, {"checksum", hex_u64(h)}});
  }
  const std::string listed = files.dump();
  nlohmann::json manifest = {{"format", format_tag},
                             {"iteration", n},
                             {"files", files},
                             {"manifest_checksum", hex_u64(checksum(listed.data(), listed.size()))}};
  write_synced(tmp / "MANIFEST.json", manifest.dump(1) + "\n");
  for (const auto& e : fs::recursive_directory_iterator(tmp))
    if (e.is_directory()) fsync_path(e.path());
  fsync_path(tmp);

  const fs::path final_dir = root / checkpoint_name(n);
  if (fs::exists(final_dir)) discard(root, checkpoint_name(n));  // an abandoned run's checkpoint n
  fs::rename(tmp, final_dir);
  write_synced(root / "LATEST.tmp", checkpoint_name(n) + "\n");
  fs::rename(root / "LATEST.tmp", root / "LATEST");
  fsync_path(root);  // both renames; a reader that finds LATEST stale scans the directories

  // Keep n and the keep−1 newest older ones; later numbers belong to an abandoned run. The
  // checkpoint is complete from here on: a failed removal leaves an extra checkpoint, no error.
  PetscInt kept = 0;
  std::error_code ec;
  for (PetscInt m : existing_checkpoints(root)) {
    const bool keep_it = m == n || (m < n && kept < keep);
    if (m <= n && keep_it) ++kept;
    if (!keep_it) {
      try {
        discard(root, checkpoint_name(m));
      } catch (const std::exception&) {
        // left for the next checkpoint to remove
      }
    }
  }
  for (const auto& e : fs::directory_iterator(root, ec))
    if (e.path().filename().string().rfind("checkpoint.tmp-", 0) == 0) fs::remove_all(e.path(), ec);
}

}  // namespace

std::string checkpoint_name(PetscInt n) {
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%s%06lld", prefix, static_cast<long long>(n));
  return buf;
}

void write_checkpoint(MPI_Comm comm, const std::string& root_dir, PetscInt n, const nlohmann::json& state,
                      const std::string& history, UpperProblem& problem, PetscInt keep) {
  log::ScopedStage stage(log::stages().io);
  log::ScopedEvent event(log::events().checkpoint);
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const fs::path root(root_dir);
  char tmpname[64];
  std::snprintf(tmpname, sizeof(tmpname), "checkpoint.tmp-%06lld", static_cast<long long>(n));
  const fs::path tmp = root / tmpname;
  bool ok = true;
  std::string message;
  if (rank == 0) {
    std::error_code ec;
    fs::create_directories(root, ec);
    fs::remove_all(tmp, ec);
    ok = fs::create_directories(tmp / "problem", ec) && !ec;
    if (!ok) message = "cannot create checkpoint directory '" + tmp.string() + "': " + ec.message();
  }
  share_verdict(comm, ok, message);
  // The problem's files: an error is thrown on every rank alike (UpperProblem::save_state).
  try {
    problem.save_state((tmp / "problem").string());
  } catch (const std::exception& e) {
    ok = false;
    message = e.what();
  }
  MPI_Barrier(comm);  // every rank's files are complete (or abandoned) before rank 0 goes on
  if (rank == 0 && ok) {
    try {
      write_on_rank0(root, n, state, history, tmp, keep);
    } catch (const std::exception& e) {
      ok = false;
      message = e.what();
    }
  }
  if (rank == 0 && !ok) {
    // The previous checkpoints stay as they were; the partial one goes (it would fill the disk).
    std::error_code ec;
    fs::remove_all(tmp, ec);
    fs::remove(root / "LATEST.tmp", ec);
    message = std::string("cannot write checkpoint ") + checkpoint_name(n) + " in '" + root.string() + "' (" + message +
              "); the previous checkpoint is kept";
  }
  share_verdict(comm, ok, message);
}

std::string verify_checkpoint(const std::string& dir_name) {
  const fs::path dir(dir_name);
  std::string text;
  if (!read_text(dir / "MANIFEST.json", text)) return "MANIFEST.json missing";
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(text);
    if (manifest.at("format").get<std::string>() != format_tag) return "MANIFEST.json: unknown format";
    const std::string listed = manifest.at("files").dump();
    if (manifest.at("manifest_checksum").get<std::string>() != hex_u64(checksum(listed.data(), listed.size())))
      return "MANIFEST.json: checksum mismatch";
  } catch (const std::exception&) {
    return "MANIFEST.json unreadable (truncated?)";
  }
  bool has_state = false;
  for (const auto& f : manifest.at("files")) {
    const std::string rel = f.at("path").get<std::string>();
    has_state = has_state || rel == "state.json";
    std::uint64_t h = 0;
    std::uintmax_t size = 0;
    if (!fs::is_regular_file(dir / rel) || !file_checksum(dir / rel, h, size)) return rel + ": missing";
    const auto expected = f.at("size").get<std::uintmax_t>();
    if (size != expected)
      return rel + ": size " + std::to_string(size) + ", manifest says " + std::to_string(expected) + " (truncated?)";
    if (hex_u64(h) != f.at("checksum").get<std::string>()) return rel + ": checksum mismatch (corrupted)";
  }
  if (!has_state) return "state.json missing from the manifest";
  return "";
}

CheckpointData read_checkpoint(MPI_Comm comm, const std::string& root_dir) {
  int rank = 0;
  MPI_Comm_rank(comm, &rank);
  const fs::path root(root_dir);
  CheckpointData data;
  std::string chosen, state_text, warnings, first_reason;
  bool ok = false;
  if (rank == 0) {
    // Newest first. LATEST is replaced after the directory rename, so a crash between the two
    // leaves it naming the previous checkpoint: the newest complete directory wins. A LATEST
    // naming a directory that is gone is reported first.
    std::vector<std::string> candidates;
    std::string latest;
    const std::vector<PetscInt> numbers = existing_checkpoints(root);
    if (read_text(root / "LATEST", latest)) {
      latest.erase(latest.find_last_not_of(" \n\r\t") + 1);
      const PetscInt m = checkpoint_number(latest);
      if (m >= 0 && std::find(numbers.begin(), numbers.end(), m) == numbers.end()) candidates.push_back(latest);
    }
    for (PetscInt m : numbers) candidates.push_back(checkpoint_name(m));
    std::vector<std::string> damaged;
    for (const auto& name : candidates) {
      const fs::path dir = root / name;
      std::string reason = fs::is_directory(dir) ? verify_checkpoint(dir.string()) : "directory missing";
      if (reason.empty() &&
          !(read_text(dir / "state.json", state_text) && read_text(dir / "history.csv", data.history)))
        reason = "unreadable";
      if (reason.empty()) {
        chosen = name;
        ok = true;
        break;
      }
      damaged.push_back("checkpoint '" + dir.string() + "' is damaged (" + reason + ")");
      if (first_reason.empty()) first_reason = damaged.back();
    }
    for (const auto& d : damaged) warnings += d + (ok ? "; using " + chosen : "; no older valid checkpoint") + "\n";
  }
  share_verdict(comm, ok,
                "no valid checkpoint in '" + root.string() + "'" + (first_reason.empty() ? "" : ": " + first_reason));
  broadcast_string(comm, chosen);
  broadcast_string(comm, state_text);
  broadcast_string(comm, data.history);
  broadcast_string(comm, warnings);
  std::istringstream ws(warnings);
  for (std::string line; std::getline(ws, line);)
    if (!line.empty()) data.warnings.push_back(line);
  try {
    data.state = nlohmann::json::parse(state_text);
  } catch (const std::exception&) {
    throw InputError("checkpoint '" + (root / chosen).string() + "': state.json is not valid JSON");
  }
  data.n = checkpoint_number(chosen);
  data.dir = (root / chosen).string();
  data.problem_dir = (root / chosen / "problem").string();
  return data;
}

}  // namespace bilearn
