#include "bilearn/core/handles.hpp"

#include "bilearn/core/error.hpp"

namespace bilearn {

ConstVecArray::ConstVecArray(Vec v) : v_(v) { BILEARN_CHECK(VecGetArrayRead(v_, &a_)); }
ConstVecArray::~ConstVecArray() { VecRestoreArrayRead(v_, &a_); }

VecArray::VecArray(Vec v) : v_(v) { BILEARN_CHECK(VecGetArray(v_, &a_)); }
VecArray::~VecArray() { VecRestoreArray(v_, &a_); }

}  // namespace bilearn
