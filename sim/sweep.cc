#include "sim/sweep.h"

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace narwhal::sim {
namespace {

constexpr char kResultMarker[] = "@@narwhal_sim_result\t";
constexpr char kDeterminismMarker[] = "@@narwhal_sim_determinism\t";

std::string Clean(std::string s) {
  for (char& c : s) {
    if (c == '\t' || c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

// The last line of `text` that starts with `marker`, without it.
std::optional<std::string> MarkedLine(const std::string& text, absl::string_view marker) {
  std::optional<std::string> found;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::ConsumePrefix(&line, marker)) found = std::string(line);
  }
  return found;
}

std::string Tail(const std::string& text, size_t lines) {
  std::vector<std::string> all = absl::StrSplit(text, '\n', absl::SkipWhitespace());
  if (all.size() > lines) all.erase(all.begin(), all.end() - static_cast<long>(lines));
  return absl::StrJoin(all, " | ");
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string SeedOutcome::Serialize() const {
  return absl::StrCat(seed, "\t", ran ? 1 : 0, "\t", events, "\t", absl::StrFormat("%.6f", sim_time_s), "\t",
                      absl::StrFormat("%.6f", wall_s), "\t", trace_hash, "\t", outside_model ? 1 : 0, "\t",
                      violations, "\t", Clean(checker), "\t", absl::StrFormat("%.6f", at_s), "\t",
                      committed_sub_dags, "\t", faults, "\t", Clean(crash), "\t", Clean(evidence));
}

std::optional<SeedOutcome> SeedOutcome::Parse(const std::string& line) {
  std::vector<std::string> f = absl::StrSplit(line, '\t');
  if (f.size() != 14) return std::nullopt;
  SeedOutcome o;
  int ran = 0, outside = 0;
  if (!absl::SimpleAtoi(f[0], &o.seed) || !absl::SimpleAtoi(f[1], &ran) || !absl::SimpleAtoi(f[2], &o.events) ||
      !absl::SimpleAtod(f[3], &o.sim_time_s) || !absl::SimpleAtod(f[4], &o.wall_s) ||
      !absl::SimpleAtoi(f[6], &outside) || !absl::SimpleAtoi(f[7], &o.violations) ||
      !absl::SimpleAtod(f[9], &o.at_s) || !absl::SimpleAtoi(f[10], &o.committed_sub_dags) ||
      !absl::SimpleAtoi(f[11], &o.faults)) {
    return std::nullopt;
  }
  o.ran = ran != 0;
  o.trace_hash = f[5];
  o.outside_model = outside != 0;
  o.checker = f[8];
  o.crash = f[12];
  o.evidence = f[13];
  return o;
}

SeedOutcome OutcomeOf(const SimulationResult& r, size_t faults) {
  SeedOutcome o;
  o.seed = r.seed;
  o.ran = true;
  o.events = r.events;
  o.sim_time_s = r.sim_time_s;
  o.wall_s = r.wall_s;
  o.trace_hash = r.trace_hash;
  o.outside_model = r.outside_model;
  o.violations = r.violations.size();
  if (!r.violations.empty()) {
    o.checker = r.violations.front().checker;
    o.at_s = r.violations.front().at_us / 1e6;
    o.evidence = r.violations.front().evidence;
  }
  o.committed_sub_dags = r.committed_sub_dags;
  o.faults = faults;
  return o;
}

ProcessPool::Job SeedJob(const SimulationOptions& options) {
  ProcessPool::Job job;
  job.in_child = [options] {
    SimulationResult r = RunSimulation(options);
    return absl::StrCat("\n", kResultMarker, OutcomeOf(r, r.faults.size()).Serialize(), "\n");
  };
  return job;
}

SeedOutcome CollectOutcome(uint64_t seed, const ProcessPool::Output& output) {
  if (auto line = MarkedLine(output.text, kResultMarker)) {
    if (auto o = SeedOutcome::Parse(*line)) return *o;
  }
  SeedOutcome o;
  o.seed = seed;
  o.ran = false;
  o.crash = absl::StrCat(output.Describe(), ": ", Tail(output.text, 4));
  return o;
}

std::vector<SeedOutcome> RunSeeds(const SimulationOptions& base, uint64_t first, uint64_t last,
                                  const ProcessPool& pool, const ProcessPool::Progress& progress) {
  std::vector<ProcessPool::Job> jobs;
  for (uint64_t s = first; s <= last; ++s) {
    SimulationOptions o = base;
    o.cluster.seed = s;
    jobs.push_back(SeedJob(o));
    if (s == UINT64_MAX) break;
  }
  std::vector<ProcessPool::Output> outs = pool.Run(jobs, progress);
  std::vector<SeedOutcome> result;
  for (size_t i = 0; i < outs.size(); ++i) result.push_back(CollectOutcome(first + i, outs[i]));
  return result;
}

SweepSummary Summarize(const std::vector<SeedOutcome>& outcomes, double elapsed_wall_s, int jobs) {
  SweepSummary s;
  s.seeds = outcomes.size();
  s.elapsed_wall_s = elapsed_wall_s;
  s.jobs = jobs;
  for (const SeedOutcome& o : outcomes) {
    s.failed += o.failed();
    s.crashed += !o.ran;
    s.outside_model += o.ran && o.outside_model;
    s.outside_model_violations += o.ran && o.outside_model && o.violations > 0;
    s.events += o.events;
    s.sim_time_s += o.sim_time_s;
    s.run_wall_s += o.wall_s;
  }
  return s;
}

std::string SweepSummary::Table() const {
  const double wall = elapsed_wall_s > 0 ? elapsed_wall_s : 1e-9;
  std::string t;
  absl::StrAppendFormat(&t, "  %-40s %12zu\n", "seeds run", seeds);
  absl::StrAppendFormat(&t, "  %-40s %12zu\n", "failing seeds (violations or crashes)", failed);
  absl::StrAppendFormat(&t, "  %-40s %12zu\n", "  of which crashed (CHECK/signal)", crashed);
  absl::StrAppendFormat(&t, "  %-40s %12zu\n", "outside the model (not counted)", outside_model);
  absl::StrAppendFormat(&t, "  %-40s %12zu\n", "  of which with violations", outside_model_violations);
  absl::StrAppendFormat(&t, "  %-40s %12.1f\n", "simulated seconds", sim_time_s);
  absl::StrAppendFormat(&t, "  %-40s %12.2f\n", "wall seconds", elapsed_wall_s);
  absl::StrAppendFormat(&t, "  %-40s %12d\n", "worker processes", jobs);
  absl::StrAppendFormat(&t, "  %-40s %12llu\n", "events", static_cast<unsigned long long>(events));
  absl::StrAppendFormat(&t, "  %-40s %12.0f\n", "events per wall second", events / wall);
  absl::StrAppendFormat(&t, "  %-40s %12.1f\n", "simulated seconds per wall second", sim_time_s / wall);
  absl::StrAppendFormat(&t, "  %-40s %12.1f\n", "  per worker process",
                        run_wall_s > 0 ? sim_time_s / run_wall_s : 0.0);
  return t;
}

std::string SweepSummary::ToJson(const std::vector<SeedOutcome>& outcomes) const {
  std::vector<std::string> failing;
  for (const SeedOutcome& o : outcomes) {
    if (!o.failed()) continue;
    failing.push_back(absl::StrFormat("{\"seed\":%d,\"checker\":\"%s\",\"at_s\":%.6f,\"evidence\":\"%s\"}", o.seed,
                                      JsonEscape(o.failure_kind()), o.at_s,
                                      JsonEscape(o.ran ? o.evidence : o.crash)));
  }
  const double wall = elapsed_wall_s > 0 ? elapsed_wall_s : 1e-9;
  return absl::StrFormat(
      "{\"sweep\":true,\"seeds\":%d,\"failed\":%d,\"crashed\":%d,\"outside_model\":%d,"
      "\"outside_model_violations\":%d,\"events\":%d,\"sim_time_s\":%.3f,\"wall_s\":%.3f,\"jobs\":%d,"
      "\"events_per_wall_second\":%.0f,\"sim_seconds_per_wall_second\":%.3f,\"failing\":[%s]}",
      seeds, failed, crashed, outside_model, outside_model_violations, events, sim_time_s, elapsed_wall_s, jobs,
      events / wall, sim_time_s / wall, absl::StrJoin(failing, ","));
}

bool DeterminismOutcome::ok() const {
  if (!error.empty() || hashes.size() != 4) return false;
  for (const std::string& h : hashes) {
    if (h.empty() || h != hashes[0]) return false;
  }
  return true;
}

std::vector<DeterminismOutcome> CheckDeterminism(
    const SimulationOptions& base, uint64_t first, uint64_t last, const ProcessPool& pool,
    const std::function<std::vector<std::string>(uint64_t seed)>& exec_argv, const ProcessPool::Progress& progress) {
  std::vector<ProcessPool::Job> jobs;
  for (uint64_t s = first; s <= last; ++s) {
    SimulationOptions o = base;
    o.cluster.seed = s;
    ProcessPool::Job twice;
    twice.in_child = [o] {
      SimulationResult a = RunSimulation(o);
      SimulationResult b = RunSimulation(o);
      return absl::StrCat("\n", kDeterminismMarker, a.trace_hash, "\t", b.trace_hash, "\n");
    };
    jobs.push_back(twice);
    for (int k = 0; k < 2; ++k) {
      ProcessPool::Job exec;
      exec.argv = exec_argv(s);
      jobs.push_back(exec);
    }
    if (s == UINT64_MAX) break;
  }
  std::vector<ProcessPool::Output> outs = pool.Run(jobs, progress);
  std::vector<DeterminismOutcome> result;
  for (size_t i = 0; i + 2 < outs.size(); i += 3) {
    DeterminismOutcome d;
    d.seed = first + i / 3;
    auto line = MarkedLine(outs[i].text, kDeterminismMarker);
    if (!line) {
      d.error = absl::StrCat("in-process runs: ", outs[i].Describe(), ": ", Tail(outs[i].text, 3));
    } else {
      std::vector<std::string> h = absl::StrSplit(*line, '\t');
      d.hashes = h;
    }
    for (int k = 1; k <= 2; ++k) {
      const std::string& text = outs[i + k].text;
      const size_t at = text.rfind("\"trace_hash\":\"");
      if (at == std::string::npos) {
        if (d.error.empty()) d.error = absl::StrCat("separate process ", k, ": ", outs[i + k].Describe(), ", no trace_hash");
        continue;
      }
      const size_t start = at + 14;
      d.hashes.push_back(text.substr(start, text.find('"', start) - start));
    }
    result.push_back(d);
  }
  return result;
}

std::optional<std::pair<uint64_t, uint64_t>> ParseSeedRange(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, "..");
  uint64_t a = 0, b = 0;
  if (parts.size() == 1 && absl::SimpleAtoi(parts[0], &a)) return std::make_pair(a, a);
  if (parts.size() == 2 && absl::SimpleAtoi(parts[0], &a) && absl::SimpleAtoi(parts[1], &b) && a <= b) {
    return std::make_pair(a, b);
  }
  return std::nullopt;
}

}  // namespace narwhal::sim
