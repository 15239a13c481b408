// Rank-local writing of files that must be either complete or reported (checkpoints): every
// write and the final sync are checked, and a failure throws std::runtime_error naming the
// file and the system's reason ("'.../space_00001.bin': No space left on device").
//
// The PETSc binary format is written here too (big-endian, as PetscBinaryWrite): a rank that
// holds a whole vector writes the bytes VecView would, so that a collective PETSc write never
// fails on one rank in the middle of a collective call (which would leave the others waiting).
//
// Test-only fault injection (README: Reliability; used by tests/cli/reliability_bad_input.sh):
// with the environment variable BILEARN_TEST_WRITE_LIMIT=<bytes>, writes through this class fail
// with "No space left on device" once the process has written that many bytes with it, which
// simulates a full disk where mounting a small tmpfs is not possible. Unset, it costs nothing.
#pragma once
#include <petscsys.h>

#include <cstddef>
#include <string>

namespace bilearn {

class CheckedFile {
 public:
  // Creates (or truncates) path for writing; throws std::runtime_error if it cannot.
  explicit CheckedFile(const std::string& path);
  ~CheckedFile();  // closes without reporting (after an error, or if close() was not called)
  CheckedFile(const CheckedFile&) = delete;
  CheckedFile& operator=(const CheckedFile&) = delete;

  void write(const void* data, std::size_t bytes);
  void write(const std::string& text) { write(text.data(), text.size()); }
  // PETSc binary format: PetscInt values, and a vector of n entries (VEC_FILE_CLASSID, n, values).
  void write_petsc_ints(const PetscInt* values, std::size_t n);
  void write_petsc_vec(const PetscScalar* values, PetscInt n);

  // Syncs the file to disk (sync = true) and closes it; throws if either fails.
  void close(bool sync = true);

 private:
  [[noreturn]] void fail(const std::string& what, int error) const;
  std::string path_;
  int fd_ = -1;
};

// The fault injection's limit set in-process (unit tests): the bytes this process may still
// write through CheckedFile, -1 for no limit. Replaces BILEARN_TEST_WRITE_LIMIT.
void set_checked_write_limit(long long bytes);

// Writes text to path (CheckedFile: complete, synced, or an exception).
void write_file_checked(const std::string& path, const std::string& text, bool sync = true);

}  // namespace bilearn
