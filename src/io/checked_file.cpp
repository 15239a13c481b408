#include "bilearn/io/checked_file.hpp"

#include <fcntl.h>
#include <petscvec.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace bilearn {
namespace {

// BILEARN_TEST_WRITE_LIMIT (see the header): the bytes this process may still write, or -1.
long long& remaining_budget() {
  static long long budget = [] {
    const char* limit = std::getenv("BILEARN_TEST_WRITE_LIMIT");
    return limit && *limit ? std::atoll(limit) : -1LL;
  }();
  return budget;
}

// Appends the big-endian bytes of a value of any size (PETSc binary files are big-endian).
template <class T>
void put_big_endian(std::vector<unsigned char>& out, T value) {
  unsigned char bytes[sizeof(T)];
  std::memcpy(bytes, &value, sizeof(T));
  const int one = 1;
  const bool little = *reinterpret_cast<const unsigned char*>(&one) == 1;
  for (std::size_t i = 0; i < sizeof(T); ++i) out.push_back(bytes[little ? sizeof(T) - 1 - i : i]);
}

}  // namespace

CheckedFile::CheckedFile(const std::string& path) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd_ < 0) fail("cannot create", errno);
}

CheckedFile::~CheckedFile() {
  if (fd_ >= 0) ::close(fd_);
}

void CheckedFile::fail(const std::string& what, int error) const {
  throw std::runtime_error(what + " '" + path_ + "': " + std::strerror(error));
}

void CheckedFile::write(const void* data, std::size_t bytes) {
  if (fd_ < 0) fail("write after close of", EBADF);
  const char* p = static_cast<const char*>(data);
  while (bytes > 0) {
    std::size_t chunk = bytes;
    long long& budget = remaining_budget();
    if (budget >= 0) {
      if (budget == 0) fail("cannot write", ENOSPC);
      chunk = std::min<std::size_t>(chunk, static_cast<std::size_t>(budget));
    }
    const ssize_t n = ::write(fd_, p, chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) fail("cannot write", n < 0 ? errno : EIO);
    if (budget >= 0) budget -= n;
    p += n;
    bytes -= static_cast<std::size_t>(n);
  }
}

void CheckedFile::write_petsc_ints(const PetscInt* values, std::size_t n) {
  std::vector<unsigned char> bytes;
  bytes.reserve(n * sizeof(PetscInt));
  for (std::size_t i = 0; i < n; ++i) put_big_endian(bytes, values[i]);
  write(bytes.data(), bytes.size());
}

void CheckedFile::write_petsc_vec(const PetscScalar* values, PetscInt n) {
  static_assert(sizeof(PetscScalar) == sizeof(PetscReal), "real PETSc builds only");
  const PetscInt header[2] = {VEC_FILE_CLASSID, n};
  write_petsc_ints(header, 2);
  std::vector<unsigned char> bytes;
  bytes.reserve(static_cast<std::size_t>(n) * sizeof(PetscScalar));
  for (PetscInt i = 0; i < n; ++i) put_big_endian(bytes, values[i]);
  write(bytes.data(), bytes.size());
}

void CheckedFile::close(bool sync) {
  if (fd_ < 0) return;
  const int fd = fd_;
  fd_ = -1;
  if (sync && ::fsync(fd) != 0) {
    const int error = errno;
    ::close(fd);
    fail("cannot sync", error);
  }
  if (::close(fd) != 0) fail("cannot close", errno);
}

void set_checked_write_limit(long long bytes) {
  remaining_budget() = bytes < 0 ? -1 : bytes;
}

void write_file_checked(const std::string& path, const std::string& text, bool sync) {
  CheckedFile file(path);
  file.write(text);
  file.close(sync);
}

}  // namespace bilearn
