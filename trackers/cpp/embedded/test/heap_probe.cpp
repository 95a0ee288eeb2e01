// A whole program built only from the embedded core, for the valgrind heap check
// (valgrind_heap_check.sh): it builds structured and sensor events, including ones that do not fit,
// and writes the last query string of each kind to stdout with write(2) (stdio would allocate its
// buffer). Linked by the C driver, so the process loads no libstdc++ and any allocation valgrind
// counts is the core's. Exit status 0 only when every result is as expected.
#include <unistd.h>

#include "furrow/tracker/embedded/tp1.h"

namespace emb = furrow::tracker::embedded;

namespace {

// xorshift64*: deterministic bytes standing in for a device's hardware RNG.
void next_random(void* context, uint8_t* out, size_t n) {
  auto* state = static_cast<uint64_t*>(context);
  for (size_t i = 0; i < n; ++i) {
    *state ^= *state >> 12;
    *state ^= *state << 25;
    *state ^= *state >> 27;
    out[i] = static_cast<uint8_t>((*state * 2685821657736338717ULL) >> 56);
  }
}

size_t length_of(const char* s) {
  size_t n = 0;
  while (s[n] != '\0') ++n;
  return n;
}

void print(const char* s, size_t n) {
  while (n > 0) {
    ssize_t w = ::write(1, s, n);
    if (w <= 0) return;
    s += w;
    n -= static_cast<size_t>(w);
  }
}

}  // namespace

int main() {
  uint64_t state = 0x9E3779B97F4A7C15ULL;
  emb::Config config;
  config.app_id = "greenhouse";
  config.tracker_namespace = "probe";
  config.random = next_random;
  config.random_context = &state;

  char query[768];
  char tiny[24];
  size_t length = 0;
  int failures = 0;
  for (int i = 0; i < 1000; ++i) {
    const emb::Field fields[] = {
        emb::string_field("sensor", "greenhouse/north \"A\""),
        emb::fixed_field("celsius", -215 + i, 1),
        emb::int_field("humidity", 40 + i % 50),
        emb::bool_field("door_open", i % 2 == 0),
    };
    if (emb::build_self_describing(config, "iglu:com.example/sensor_reading/jsonschema/1-0-0",
                                   fields, 4, 1700000000000ULL + static_cast<uint64_t>(i), query,
                                   sizeof query, &length) != emb::Status::kOk) {
      ++failures;
    }
    if (emb::build_self_describing(config, "iglu:com.example/sensor_reading/jsonschema/1-0-0",
                                   fields, 4, 1700000000000ULL, tiny, sizeof tiny,
                                   &length) != emb::Status::kBufferTooSmall) {
      ++failures;
    }
  }
  print(query, length_of(query));
  print("\n", 1);

  emb::StructuredEvent se;
  se.category = "pump";
  se.action = "start";
  se.label = "valve 3 & 4";
  se.value = "12.5";
  for (int i = 0; i < 1000; ++i) {
    if (emb::build_structured(config, se, 1700000000000ULL, query, sizeof query, &length) !=
        emb::Status::kOk) {
      ++failures;
    }
  }
  print(query, length);
  print("\n", 1);
  return failures == 0 ? 0 : 1;
}
