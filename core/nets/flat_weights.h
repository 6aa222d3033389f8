#pragma once
// Flat {name: tensor} weight files (torch.save of a plain dict, read with torch::pickle_load)
// and their strict loading into a module tree whose names mirror the reference PyTorch code.
#include <torch/torch.h>

#include <map>
#include <string>

namespace ideu::nets {

using TensorDict = std::map<std::string, torch::Tensor>;

// Reads a zip-format torch.save file holding a plain dict of tensors. Throws ModelError.
TensorDict loadTensorDict(const std::string& path);

// Copies every parameter and buffer of `module` from `weights` (same names, same shapes).
// Every module entry must be present and every weight used exactly once; otherwise a
// ModelError lists what is missing, unexpected or mis-shaped.
void loadStrict(torch::nn::Module& module, const TensorDict& weights, const std::string& what);

}  // namespace ideu::nets
