// Replays a libFuzzer seed corpus without libFuzzer: every file under the directories (or the
// files) named on the command line is passed once to LLVMFuzzerTestOneInput. Used by `make test`
// so each corpus runs under the release and the ASan/UBSan builds.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {
int run_file(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::vector<char> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // Copy into an exactly sized heap buffer so ASan catches reads past the end.
  auto* buf = new uint8_t[bytes.size() + 1];
  std::copy(bytes.begin(), bytes.end(), buf);
  LLVMFuzzerTestOneInput(buf, bytes.size());
  delete[] buf;
  return 1;
}
}  // namespace

int main(int argc, char** argv) {
  size_t count = 0;
  for (int i = 1; i < argc; ++i) {
    std::filesystem::path p(argv[i]);
    if (std::filesystem::is_directory(p)) {
      for (const auto& e : std::filesystem::recursive_directory_iterator(p)) {
        if (e.is_regular_file()) count += run_file(e.path());
      }
    } else if (std::filesystem::exists(p)) {
      count += run_file(p);
    } else {
      std::fprintf(stderr, "no such corpus: %s\n", argv[i]);
      return 2;
    }
  }
  std::printf("replayed %zu inputs\n", count);
  if (count == 0) {
    std::fprintf(stderr, "empty corpus\n");
    return 3;
  }
  return 0;
}
