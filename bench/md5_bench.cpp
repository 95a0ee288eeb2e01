// MD5 of a batch of fingerprint-sized messages (700-800 bytes, as event_fingerprint_config
// preimages of `furrow gen` events): OpenSSL's MD5 one message after another against
// common::md5_many (eight messages per AVX2 pass) and furrow's own scalar MD5, in the same run.
// Items/s = messages hashed per second.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <benchmark/benchmark.h>
#include <openssl/md5.h>

#include <random>
#include <string>
#include <vector>

#include "common/md5_lanes.h"

namespace {

using furrow::common::Md5Digest;

const std::vector<std::string>& messages(std::size_t n) {
  static std::vector<std::string> m;
  if (m.size() != n) {
    std::mt19937 rng(7);
    m.clear();
    for (std::size_t i = 0; i < n; ++i) {
      std::string s(700 + rng() % 101, '\0');
      for (auto& c : s) c = static_cast<char>(' ' + rng() % 95);
      m.push_back(std::move(s));
    }
  }
  return m;
}

void BM_Md5OpenSsl(benchmark::State& state) {
  const auto& msgs = messages(static_cast<std::size_t>(state.range(0)));
  std::vector<Md5Digest> out(msgs.size());
  for (auto _ : state) {
    for (std::size_t i = 0; i < msgs.size(); ++i) {
      MD5_CTX c;
      MD5_Init(&c);
      MD5_Update(&c, msgs[i].data(), msgs[i].size());
      MD5_Final(out[i].data(), &c);
    }
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * msgs.size()));
}
BENCHMARK(BM_Md5OpenSsl)->Arg(8)->Arg(1000);

void BM_Md5Scalar(benchmark::State& state) {
  const auto& msgs = messages(static_cast<std::size_t>(state.range(0)));
  std::vector<Md5Digest> out(msgs.size());
  for (auto _ : state) {
    for (std::size_t i = 0; i < msgs.size(); ++i) out[i] = furrow::common::md5(msgs[i]);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * msgs.size()));
}
BENCHMARK(BM_Md5Scalar)->Arg(8)->Arg(1000);

void BM_Md5Lanes(benchmark::State& state) {
  const auto& msgs = messages(static_cast<std::size_t>(state.range(0)));
  const std::vector<std::string_view> views(msgs.begin(), msgs.end());
  std::vector<Md5Digest> out(msgs.size());
  for (auto _ : state) {
    furrow::common::md5_many(views, out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * msgs.size()));
  state.SetLabel(furrow::common::md5_lanes_available() ? "avx2" : "scalar (no avx2)");
}
BENCHMARK(BM_Md5Lanes)->Arg(8)->Arg(1000);

}  // namespace
