// Constructors of the forward models, one per -problem value; each reads its own options
// (prefix in brackets) and lives in its own file src/problem/<name>.cpp.
#pragma once
#include "bilearn/problem/forward_model.hpp"

namespace bilearn {

ForwardModel create_xray_model(const ImageGrid& grid);      // tomo     [-tomo_*]  parallel or fan beam
ForwardModel create_blur_model(const ImageGrid& grid);      // blur     [-blur_*]  Gaussian PSF
ForwardModel create_inpaint_model(const ImageGrid& grid);   // inpaint  [-inpaint_*] pixel mask
ForwardModel create_identity_model(const ImageGrid& grid);  // denoise
ForwardModel create_matrix_model(const ImageGrid& grid);    // matrix   [-matrix_file F] user matrix

// For the builders whose data is itself an image on grid (blur, inpaint, denoise): names the
// model and sets data_on_grid with the N×N picture shape.
void set_data_on_grid(ForwardModel& model, const ImageGrid& grid, std::string name);

}  // namespace bilearn
