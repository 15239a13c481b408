// Core layer: PETSc errors become exceptions with one-line messages, callbacks never let
// exceptions escape, options are range-checked with messages naming the option.
#include <gtest/gtest.h>

#include "bilearn/core/error.hpp"
#include "bilearn/core/handles.hpp"
#include "bilearn/core/options.hpp"

using namespace bilearn;

TEST(Core, PetscErrorBecomesExceptionWithOneLineMessage) {
  OwnedVec x;
  BILEARN_CHECK(VecCreateMPI(PETSC_COMM_WORLD, PETSC_DECIDE, 10, x.out()));
  try {
    BILEARN_CHECK(VecSetSizes(x, 3, 3));  // sizes already set
    ADD_FAILURE() << "expected an exception";
  } catch (const PetscFailure& e) {
    std::string what = e.what();
    EXPECT_EQ(what.find('\n'), std::string::npos);
    EXPECT_NE(what.find("VecSetSizes"), std::string::npos);
  }
}

static PetscErrorCode throwing_mult(Mat A, Vec, Vec) {
  return guarded(PetscObjectComm((PetscObject)A), __func__, [] { throw InputError("inner failure"); });
}

TEST(Core, ExceptionInsideCallbackComesBackAsPetscError) {
  OwnedMat A;
  BILEARN_CHECK(MatCreateShell(PETSC_COMM_WORLD, PETSC_DECIDE, PETSC_DECIDE, 6, 6, nullptr, A.out()));
  BILEARN_CHECK(MatShellSetOperation(A, MATOP_MULT, (void (*)(void))throwing_mult));
  OwnedVec x, y;
  BILEARN_CHECK(MatCreateVecs(A, x.out(), y.out()));
  try {
    BILEARN_CHECK(MatMult(A, x, y));
    ADD_FAILURE() << "expected an exception";
  } catch (const PetscFailure& e) {
    EXPECT_NE(std::string(e.what()).find("inner failure"), std::string::npos) << e.what();
  }
}

TEST(Core, OptionRangeCheckNamesTheOption) {
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-coretest_n", "0"));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-coretest_kind", "banana"));
  BILEARN_CHECK(PetscOptionsSetValue(nullptr, "-coretest_list", "1,2.5,3"));
  OptionsBlock block(PETSC_COMM_WORLD, "coretest_", "core test");
  try {
    block.integer("-n", "side", 4, 1);
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "-coretest_n must be >= 1, got 0");
  }
  try {
    block.choice("-kind", "kind", {"apple", "pear"}, "apple");
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "unknown value 'banana' for -coretest_kind (choose one of apple, pear)");
  }
  auto list = block.reals("-list", "list", {});
  ASSERT_EQ(list.size(), 3u);
  EXPECT_DOUBLE_EQ(list[1], 2.5);
  EXPECT_DOUBLE_EQ(block.real("-absent", "absent", 7.0), 7.0);
  EXPECT_FALSE(block.was_set("-absent"));
  EXPECT_TRUE(block.was_set("-n"));
}
