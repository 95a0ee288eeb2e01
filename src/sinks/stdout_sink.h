// The stdout raw sink: one standard-base64 Thrift CollectorPayload per line on a file descriptor
// (stdout by default), so `furrow collector --sink stdout | furrow enrich` works.
#pragma once

#include <memory>

#include "sinks/raw_sink.h"

namespace furrow::sinks {

// Writes to `fd` (not closed). sync() fsyncs when `fd` is a file and is a no-op on pipes.
std::unique_ptr<SinkBackend> make_stdout_backend(int fd);

// A RawSink on stdout. Record limit 1e9 bytes (Snowplow's stdout maxBytes).
std::unique_ptr<RawSink> make_stdout_sink(QueuedSinkOptions options, int fd = 1);

}  // namespace furrow::sinks
