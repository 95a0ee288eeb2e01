// `furrow gen`: deterministic raw traffic in enrich's default input format.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>

#include "app/commands.h"
#include "sources/generator.h"

namespace furrow::app {

namespace {
struct GenOptions {
  uint64_t count = 1000;
  uint64_t seed = 1;
  double malformed_share = 0;
  uint32_t visitors = 5000;
  std::string output = "-";
  bool quiet = false;
};

int run_gen(const GenOptions& o) {
  FILE* out = stdout;
  std::unique_ptr<FILE, int (*)(FILE*)> owned(nullptr, &std::fclose);
  if (o.output != "-") {
    owned.reset(std::fopen(o.output.c_str(), "wb"));
    if (!owned) {
      std::fprintf(stderr, "furrow gen: %s: cannot open for writing: %s\n", o.output.c_str(),
                   std::strerror(errno));
      return kExitFailure;
    }
    out = owned.get();
  }
  static char buffer[1 << 20];
  std::setvbuf(out, buffer, _IOFBF, sizeof buffer);

  sources::GeneratorConfig cfg;
  cfg.seed = o.seed;
  cfg.malformed_share = o.malformed_share;
  cfg.visitors = o.visitors;
  sources::Generator gen(cfg);
  sources::GeneratedPayload p;
  uint64_t events = 0, payloads = 0, malformed = 0;
  while (events < o.count) {
    const uint64_t left = o.count - events;
    gen.next(left > 10 ? 10u : static_cast<uint32_t>(left), p);
    p.line.push_back('\n');
    if (std::fwrite(p.line.data(), 1, p.line.size(), out) != p.line.size()) break;
    events += p.events;
    ++payloads;
    if (p.malformed != sources::MalformedKind::kNone) ++malformed;
  }
  if (std::fflush(out) != 0 || std::ferror(out)) {
    std::fprintf(stderr, "furrow gen: %s: write failed: %s\n",
                 o.output == "-" ? "<stdout>" : o.output.c_str(), std::strerror(errno));
    return kExitFailure;
  }
  if (!o.quiet) {
    std::fprintf(stderr,
                 "furrow gen: wrote %llu payloads carrying %llu events (%llu malformed payloads)\n",
                 static_cast<unsigned long long>(payloads), static_cast<unsigned long long>(events),
                 static_cast<unsigned long long>(malformed));
  }
  return kExitOk;
}
}  // namespace

void register_gen(CLI::App& root) {
  auto opts = std::make_shared<GenOptions>();
  auto* cmd = root.add_subcommand(
      "gen",
      "Generate deterministic, realistic raw traffic: one base64 Thrift CollectorPayload per line "
      "(the input format of `furrow enrich`)");
  cmd->footer(
      "Page views, page pings, structured and self-describing events, transactions and items, in "
      "GET requests and POST batches of 1-10 events, from real-world user agents, IPv4 and IPv6 "
      "clients, search and social referers, utm campaigns. The same --seed always gives "
      "byte-identical output. Each malformed payload becomes exactly one bad row in enrich, so "
      "`furrow enrich` reports exactly --count events for the output.");
  cmd->add_option("-n,--count", opts->count,
                  "Events to generate (a malformed payload counts as one event)")
      ->capture_default_str();
  cmd->add_option("-s,--seed", opts->seed, "Random seed")->capture_default_str();
  cmd->add_option("--malformed-share", opts->malformed_share,
                  "Share of payloads (0..1) that are malformed")
      ->check(CLI::Range(0.0, 1.0))
      ->capture_default_str();
  cmd->add_option("--visitors", opts->visitors, "Size of the simulated visitor population")
      ->check(CLI::Range(1u, 100000000u))
      ->capture_default_str();
  cmd->add_option("-o,--output", opts->output, "Output file; - is standard output")
      ->capture_default_str();
  cmd->add_flag("-q,--quiet", opts->quiet, "Do not print the summary line to stderr");
  cmd->callback([opts] { exit_code() = run_gen(*opts); });
}

}  // namespace furrow::app
