#include "bilearn/app/job_file.hpp"

#include <cctype>
#include <fstream>
#include <sstream>

#include "bilearn/core/error.hpp"

namespace bilearn {
namespace {

// Options that only read a file: their values may name any path.
bool reads_only(const std::string& name) {
  for (const char* input :
       {"-data_file", "-data_truth_dir", "-reg_foe_filter_file", "-matrix_file", "-inpaint_mask_file"})
    if (name == input) return true;
  return false;
}

// A value part that leaves the job folder: absolute, from the home folder, or through "..".
bool leaves_folder(const std::string& part) {
  if (part.empty()) return false;
  if (part[0] == '/' || part[0] == '~') return true;
  std::istringstream components(part);
  for (std::string c; std::getline(components, c, '/');)
    if (c == "..") return true;
  return false;
}

// Every option value is split at ':' ',' and '=' (PETSc viewer syntax "ascii:FILE:format",
// "-log_view :FILE", lists): a part that leaves the folder is refused.
void check_value(const std::string& name, const std::string& value, const std::string& file) {
  if (reads_only(name)) return;
  std::string part;
  for (size_t i = 0; i <= value.size(); ++i) {
    if (i == value.size() || value[i] == ':' || value[i] == ',' || value[i] == '=') {
      if (leaves_folder(part))
        throw InputError(file + ": " + name + " " + value +
                         ": a job writes only inside its own folder (use a relative path without '..')");
      part.clear();
    } else {
      part += value[i];
    }
  }
}

bool is_option_name(const std::string& w) {
  return w.size() >= 2 && w[0] == '-' && (std::isalpha(static_cast<unsigned char>(w[1])) || w[1] == '-');
}

// PETSc's reading of an options file (PetscOptionsInsertFile): one option per line, its name
// and an optional value; '#' starts a comment. Returns the words of each line.
std::vector<std::vector<std::string>> lines_of(const std::string& text, const std::string& file) {
  std::vector<std::vector<std::string>> result;
  std::istringstream lines(text);
  int number = 0;
  for (std::string line; std::getline(lines, line);) {
    ++number;
    const size_t hash = line.find('#');
    if (hash != std::string::npos) line.resize(hash);
    std::istringstream in(line);
    std::vector<std::string> words;
    for (std::string w; in >> w;) words.push_back(w);
    if (words.empty()) continue;
    if (words[0] == "alias")
      throw InputError(file + ": line " + std::to_string(number) + ": 'alias' is not allowed in a job");
    if (!is_option_name(words[0]))
      throw InputError(file + ": line " + std::to_string(number) + ": '" + words[0] +
                       "' is not an option (options start with '-')");
    if (words.size() > 2)
      throw InputError(file + ": line " + std::to_string(number) + ": extra word '" + words[2] +
                       "' (one option and its value per line)");
    result.push_back(words);
  }
  return result;
}

}  // namespace

const std::vector<std::string>& job_commands() {
  static const std::vector<std::string> commands = {"train", "reconstruct", "hypergrad"};
  return commands;
}

JobFile parse_job_text(const std::string& text, const std::string& file) {
  for (char c : text)
    if (c == '\0') throw InputError(file + ": not a text file");
  JobFile job;
  for (const auto& words : lines_of(text, file)) {
    const std::string& w = words[0];
    if (w[1] == '-')
      throw InputError(file + ": " + w + ": long options are not allowed in a job (the service chooses its folder)");
    const std::string value = words.size() > 1 ? words[1] : "";
    if (w == "-options_file" || w == "-options_file_yaml" || w == "-options_string_yaml")
      throw InputError(file + ": " + w + " is not allowed in a job (put the options in the job file)");
    check_value(w, value, file);
    if (w == "-serve_command") job.command = value;
    job.options.emplace_back(w, value);
  }
  require(!job.command.empty(), file + ": no -serve_command (train, reconstruct or hypergrad) in the job");
  bool known = false;
  for (const auto& c : job_commands()) known = known || c == job.command;
  require(known, file + ": -serve_command " + job.command + ": not a job command (train, reconstruct or hypergrad)");
  return job;
}

JobFile parse_job_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  require(in.good(), "cannot read the job file '" + path + "'");
  std::ostringstream text;
  text << in.rdbuf();
  const std::string name = path.substr(path.find_last_of('/') + 1);
  return parse_job_text(text.str(), name);
}

}  // namespace bilearn
