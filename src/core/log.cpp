#include "bilearn/core/log.hpp"

#include "bilearn/core/error.hpp"

namespace bilearn::log {
namespace {
Events the_events;
Stages the_stages;
bool registered = false;
}  // namespace

const Events& events() {
  return the_events;
}
const Stages& stages() {
  return the_stages;
}

void register_all() {
  if (registered) return;
  PetscClassId id;
  BILEARN_CHECK(PetscClassIdRegister("bilearn", &id));
  BILEARN_CHECK(PetscLogEventRegister("BlOpAssembly", id, &the_events.operator_assembly));
  BILEARN_CHECK(PetscLogEventRegister("BlOpTranspose", id, &the_events.operator_transpose));
  BILEARN_CHECK(PetscLogEventRegister("BlOpApply", id, &the_events.operator_apply));
  BILEARN_CHECK(PetscLogEventRegister("BlHessApply", id, &the_events.hessian_apply));
  BILEARN_CHECK(PetscLogEventRegister("BlMixedApply", id, &the_events.mixed_apply));
  BILEARN_CHECK(PetscLogEventRegister("BlLowerSolve", id, &the_events.lower_solve));
  BILEARN_CHECK(PetscLogEventRegister("BlKrylovSolve", id, &the_events.krylov_solve));
  BILEARN_CHECK(PetscLogEventRegister("BlRecycleUpd", id, &the_events.recycle_update));
  BILEARN_CHECK(PetscLogEventRegister("BlSelector", id, &the_events.selector));
  BILEARN_CHECK(PetscLogEventRegister("BlHypergrad", id, &the_events.hypergradient));
  BILEARN_CHECK(PetscLogEventRegister("BlCheckpoint", id, &the_events.checkpoint));
  BILEARN_CHECK(PetscLogEventRegister("BlIO", id, &the_events.io));
  BILEARN_CHECK(PetscLogStageRegister("bilearn setup", &the_stages.setup));
  BILEARN_CHECK(PetscLogStageRegister("bilearn lower", &the_stages.lower));
  BILEARN_CHECK(PetscLogStageRegister("bilearn hypergrad", &the_stages.hypergradient));
  BILEARN_CHECK(PetscLogStageRegister("bilearn outer", &the_stages.outer));
  BILEARN_CHECK(PetscLogStageRegister("bilearn line search", &the_stages.line_search));
  BILEARN_CHECK(PetscLogStageRegister("bilearn io", &the_stages.io));
  registered = true;
}

}  // namespace bilearn::log
