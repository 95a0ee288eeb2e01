#include "collector/server.h"

#include <pthread.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <charconv>
#include <condition_variable>
#include <cstddef>
#include <cstring>
#include <deque>
#include <limits>
#include <mutex>
#include <optional>
#include <tuple>

#include "common/time_format.h"

namespace furrow::collector {
namespace {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;
using ReusePort = net::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
// Literals as string_views: appending them needs no strlen.
using namespace std::string_view_literals;

std::string_view reason_phrase(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 303:
      return "See Other";
    case 304:
      return "Not Modified";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 409:
      return "Conflict";
    case 410:
      return "Gone";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 400:
      return "Bad Request";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Payload Too Large";
    case 414:
      return "URI Too Long";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
    default:
      return "Unknown";
  }
}

void append_number(std::string& out, int64_t v) {
  char buf[24];
  auto r = std::to_chars(buf, buf + sizeof buf, v);
  out.append(buf, r.ptr);
}

// Serialises a response by hand: our responses are small and fixed in shape, and this avoids a
// per-request header container.
void serialize(const HttpResponse& r, bool keep_alive, bool http10, bool head, std::string& out) {
  out.clear();
  out += "HTTP/1.1 "sv;
  append_number(out, r.status);
  out += ' ';
  out += reason_phrase(r.status);
  out += "\r\n"sv;
  if (!r.content_type.empty()) {
    out += "Content-Type: "sv;
    out += r.content_type;
    out += "\r\n"sv;
  }
  // A 304 carries no body and no Content-Length (RFC 9110 8.6).
  const bool not_modified = r.status == 304;
  if (!not_modified) {
    out += "Content-Length: "sv;
    append_number(out, static_cast<int64_t>(r.body.size()));
    out += "\r\n"sv;
  }
  if (r.no_cache) out += "Cache-Control: no-cache, no-store, must-revalidate\r\n"sv;
  if (!r.cache_control.empty()) {
    out += "Cache-Control: "sv;
    out += r.cache_control;
    out += "\r\n"sv;
  }
  if (!r.etag.empty()) {
    out += "ETag: "sv;
    out += r.etag;
    out += "\r\n"sv;
  }
  for (const auto& [name, value] : r.extra_headers) {
    out += name;
    out += ": "sv;
    out += value;
    out += "\r\n"sv;
  }
  if (!r.set_cookie.empty()) {
    out += "Set-Cookie: "sv;
    out += r.set_cookie;
    out += "\r\n"sv;
  }
  if (!r.allow_origin.empty()) {
    out += "Access-Control-Allow-Origin: "sv;
    out += r.allow_origin;
    out += "\r\n"sv;
  }
  if (r.allow_credentials) out += "Access-Control-Allow-Credentials: true\r\n"sv;
  if (r.preflight) {
    out += "Access-Control-Allow-Headers: Content-Type, SP-Anonymous\r\n"sv;
    out += "Access-Control-Allow-Methods: POST, GET, OPTIONS\r\n"sv;
    out += "Access-Control-Max-Age: "sv;
    append_number(out, r.cors_max_age);
    out += "\r\n"sv;
  }
  if (!r.location.empty()) {
    out += "Location: "sv;
    out += r.location;
    out += "\r\n"sv;
  }
  if (r.retry_after > 0) {
    out += "Retry-After: "sv;
    append_number(out, r.retry_after);
    out += "\r\n"sv;
  }
  if (!keep_alive) {
    out += "Connection: close\r\n"sv;
  } else if (http10) {
    out += "Connection: keep-alive\r\n"sv;
  }
  out += "\r\n"sv;
  if (!head && !not_modified) out += r.body;
}

bool header_safe(std::string_view s) {
  return s.find_first_of(std::string_view("\r\n\0", 3)) == std::string_view::npos;
}

bool header_name_ok(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (u <= 0x20 || u >= 0x7f || c == ':') return false;
  }
  return true;
}

// Serialises an application response. 1xx is not supported; 204 and 304 carry neither a body
// nor a Content-Length (RFC 9110 8.6).
void serialize_app(const AppResponse& r, bool keep_alive, bool http10, bool head,
                   std::string& out) {
  const int status = r.status >= 200 && r.status <= 599 ? r.status : 500;
  const bool bodiless = status == 204 || status == 304;
  out.clear();
  out += "HTTP/1.1 "sv;
  append_number(out, status);
  out += ' ';
  out += reason_phrase(status);
  out += "\r\n"sv;
  if (!r.content_type.empty() && header_safe(r.content_type)) {
    out += "Content-Type: "sv;
    out += r.content_type;
    out += "\r\n"sv;
  }
  if (!bodiless) {
    out += "Content-Length: "sv;
    append_number(out, static_cast<int64_t>(r.body.size()));
    out += "\r\n"sv;
  }
  for (const auto& [name, value] : r.headers) {
    if (!header_name_ok(name) || !header_safe(value)) continue;
    out += name;
    out += ": "sv;
    out += value;
    out += "\r\n"sv;
  }
  if (!keep_alive) {
    out += "Connection: close\r\n"sv;
  } else if (http10) {
    out += "Connection: keep-alive\r\n"sv;
  }
  out += "\r\n"sv;
  if (!head && !bodiless) out += r.body;
}

// Closed when the server stops, so that an AppRespond called afterwards (from an application
// thread) never touches a destroyed io_context.
struct AppGate {
  std::mutex mu;
  bool open = true;
};

}  // namespace

struct Server::Impl {
  Impl(const Handler& h, sinks::RawSink& s, BadOutput& b, Metrics& m)
      : handler(h), sink(s), bad(b), metrics(m), cfg(h.config()) {}
  ~Impl() {
    acceptors.clear();
    admin.reset();
    ioc.clear();
  }

  const Handler& handler;
  sinks::RawSink& sink;
  BadOutput& bad;
  Metrics& metrics;
  const CollectorConfig& cfg;

  std::atomic<bool> draining{false};
  std::atomic<int64_t> inflight{0};
  uint16_t port = 0;
  uint16_t admin_port = 0;
  std::mutex mu;
  std::condition_variable cv;
  bool stop_requested = false;

  std::vector<std::unique_ptr<net::io_context>> ioc;
  std::vector<std::unique_ptr<tcp::acceptor>> acceptors;
  std::unique_ptr<tcp::acceptor> admin;
  std::vector<std::thread> threads;
  AppRouter app_router;
  std::shared_ptr<AppGate> gate = std::make_shared<AppGate>();

  void close_gate() {
    std::lock_guard<std::mutex> lock(gate->mu);
    gate->open = false;
  }

  void accept(tcp::acceptor& acc, net::io_context& ctx);
  void accept_admin();
};

namespace {

// Storage for the text of one request's head (method, target, field names and values): a block
// inside the session, reclaimed all at once when the next request starts; text that does not fit
// goes to separately allocated strings, freed at the same moment.
class TextArena {
 public:
  std::string_view copy(beast::string_view s) {
    if (s.size() <= sizeof block_ - used_) {
      char* at = block_ + used_;
      if (!s.empty()) std::memcpy(at, s.data(), s.size());
      used_ += s.size();
      return {at, s.size()};
    }
    return overflow_.emplace_back(s.data(), s.size());  // a deque: earlier copies stay put
  }
  // Only while no view of an earlier copy is in use.
  void reset() {
    used_ = 0;
    overflow_.clear();
  }

 private:
  char block_[4096];
  std::size_t used_ = 0;
  std::deque<std::string> overflow_;
};

// Beast's request parser without Beast's field container: basic_parser does all the parsing,
// limits, Content-Length / chunked framing and keep-alive semantics; the method, target and
// fields are copied as received into the session's TextArena and listed as views (the views Beast
// hands over point into the read buffer, which moves on). Saves building and tearing down a
// basic_fields (one node per field) for every request.
class RequestParser final : public http::basic_parser<true> {
 public:
  RequestParser(TextArena& text, std::vector<Header>& headers, std::string& body)
      : text_(text), headers_(headers), body_(body) {}

  http::verb method() const { return method_; }
  std::string_view method_string() const { return method_string_; }
  std::string_view target() const { return target_; }
  int version() const { return version_; }

 private:
  void on_request_impl(http::verb method, beast::string_view method_str, beast::string_view target,
                       int version, beast::error_code& ec) override {
    method_ = method;
    method_string_ = text_.copy(method_str);
    target_ = text_.copy(target);
    version_ = version;
    ec = {};
  }
  void on_response_impl(int, beast::string_view, int, beast::error_code& ec) override {
    ec = http::error::bad_method;  // never called for a request parser
  }
  void on_field_impl(http::field, beast::string_view name, beast::string_view value,
                     beast::error_code& ec) override {
    headers_.emplace_back(text_.copy(name), text_.copy(value));
    ec = {};
  }
  void on_header_impl(beast::error_code& ec) override { ec = {}; }
  void on_body_init_impl(const boost::optional<std::uint64_t>& length,
                         beast::error_code& ec) override {
    // The body limit was checked against the length before this is called.
    if (length) body_.reserve(static_cast<std::size_t>(*length));
    ec = {};
  }
  std::size_t on_body_impl(beast::string_view data, beast::error_code& ec) override {
    body_.append(data.data(), data.size());
    ec = {};
    return data.size();
  }
  void on_chunk_header_impl(std::uint64_t, beast::string_view, beast::error_code& ec) override {
    ec = {};
  }
  std::size_t on_chunk_body_impl(std::uint64_t, beast::string_view data,
                                 beast::error_code& ec) override {
    body_.append(data.data(), data.size());
    ec = {};
    return data.size();
  }
  void on_finish_impl(beast::error_code& ec) override { ec = {}; }

  TextArena& text_;
  std::vector<Header>& headers_;
  std::string& body_;
  http::verb method_ = http::verb::unknown;
  std::string_view method_string_;
  std::string_view target_;
  int version_ = 11;
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server::Impl& s, tcp::socket&& socket)
      : s_(s), socket_(std::move(socket)), timer_(socket_.get_executor()) {
    s_.metrics.connection_opened();
    beast::error_code ec;
    auto ep = socket_.remote_endpoint(ec);
    if (!ec) peer_ = ep.address().to_string();
  }
  ~Session() {
    if (inflight_) s_.inflight.fetch_sub(1);
    s_.metrics.connection_closed();
  }

  void start() { do_read(); }

 private:
  const Limits& limits() const { return s_.cfg.limits; }

  // A deadline for the current read or write. Expiry cancels the socket's operations, which then
  // complete with operation_aborted and timed_out_ set, so that a 408 can still be written (a
  // beast::tcp_stream timeout would close the socket instead).
  // The Asio timer is set lazily: arming and disarming only move deadline_, and a wait already
  // pending that expires no later than the new deadline is kept; when it fires it checks
  // deadline_ and waits again if the deadline moved on. A keep-alive request then costs no timer
  // cancellation, completion or new wait (each request used to cancel and re-arm it twice).
  void arm(int64_t ms) {
    timed_out_ = false;
    deadline_ = Clock::now() + std::chrono::milliseconds(ms);
    if (deadline_wait_ && timer_.expiry() <= deadline_) return;
    wait_for_deadline();
  }
  void disarm() { deadline_ = Clock::time_point::max(); }

  void wait_for_deadline() {
    deadline_wait_ = true;
    const uint64_t generation = ++deadline_generation_;
    timer_.expires_at(deadline_);
    timer_.async_wait([weak = weak_from_this(), generation](beast::error_code ec) {
      auto self = weak.lock();
      // Superseded by a newer wait, or the timer was taken for the application's deadline.
      if (!self || generation != self->deadline_generation_) return;
      self->deadline_wait_ = false;
      if (ec || self->deadline_ == Clock::time_point::max()) return;
      if (Clock::now() < self->deadline_) return self->wait_for_deadline();  // moved on
      self->timed_out_ = true;
      beast::error_code ignored;
      self->socket_.cancel(ignored);
    });
  }

  void do_read() {
    parser_.reset();
    headers_.clear();
    text_.reset();
    body_.clear();
    // A large POST body's buffer is not kept for the rest of the connection.
    if (body_.capacity() > kKeptBodyCapacity) std::string().swap(body_);
    parser_.emplace(text_, headers_, body_);
    parser_->header_limit(
        static_cast<uint32_t>(limits().max_header_bytes + limits().max_request_line));
    // The body limit is applied once the header is in, so that an announced Content-Length over
    // the cap is seen (and recorded) as such.
    parser_->body_limit(std::numeric_limits<std::uint64_t>::max());
    arm(limits().header_timeout_ms);
    header_bytes_ = 0;
    if (buffer_.size() > 0) {
      // A pipelined request is already buffered. Parse it from a fresh handler, not from here:
      // do_read can be reached synchronously from the previous request's handling, and a long
      // pipeline must not deepen the stack.
      net::post(socket_.get_executor(), [self = shared_from_this()] { self->read_header(); });
      return;
    }
    wait_readable();
  }

  // The request header is read by hand instead of with http::async_read_header: wait until the
  // socket is readable (no speculative recv that fails with EAGAIN after every answer), then
  // recv and parse synchronously, so a request that arrives whole costs one recv and no posted
  // completion. Semantics follow Beast's read_some_op (need_more, end_of_stream, put_eof).
  void wait_readable() {
    socket_.async_wait(tcp::socket::wait_read, [self = shared_from_this()](beast::error_code ec) {
      if (ec) return self->on_header(ec, self->header_bytes_);
      self->read_header();
    });
  }

  void read_header() {
    for (;;) {
      if (buffer_.size() > 0) {
        beast::error_code ec;
        const std::size_t used = parser_->put(buffer_.data(), ec);
        buffer_.consume(used);
        header_bytes_ += used;
        if (ec != http::error::need_more) {
          if (ec || parser_->is_header_done()) return on_header(ec, header_bytes_);
          if (used > 0) continue;  // progress without a complete header: parse on
        }
      }
      const std::size_t room = buffer_.capacity() - buffer_.size();
      auto space = buffer_.prepare(std::clamp<std::size_t>(room, kMinRead, kMaxRead));
      ssize_t n = ::recv(socket_.native_handle(), space.data(), space.size(), MSG_DONTWAIT);
      if (n > 0) {
        buffer_.commit(static_cast<std::size_t>(n));
        continue;
      }
      if (n == 0) {
        beast::error_code ec = http::error::end_of_stream;
        if (parser_->got_some()) {
          ec = {};
          parser_->put_eof(ec);  // a header cut short: partial_message
        }
        return on_header(ec, header_bytes_);
      }
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return wait_readable();
      return on_header(beast::error_code(errno, beast::system_category()), header_bytes_);
    }
  }

  void begin_request() {
    if (!inflight_) {
      inflight_ = true;
      s_.inflight.fetch_add(1);
    }
  }

  void on_header(beast::error_code ec, std::size_t n) {
    bytes_in_ = n;
    if (ec) return on_read_error(ec);
    begin_request();
    const RequestParser& req = *parser_;
    if (req.target().size() > limits().max_request_line)
      return reject(414, "request line too long");
    auto cl = parser_->content_length();
    if (cl && *cl > limits().max_body_bytes) {
      // Refuse without reading the body; the size_violation row records what was refused.
      write_bad_row(s_.handler.oversized_request_bad_row(req.method_string(), req.target(),
                                                         static_cast<std::size_t>(*cl), now_ms()));
      return reject(413, "request body too large");
    }
    parser_->body_limit(limits().max_body_bytes);
    if (parser_->is_done()) return on_body({}, 0);
    arm(limits().body_timeout_ms);
    http::async_read(
        socket_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t n) { self->on_body(ec, n); });
  }

  void on_read_error(beast::error_code ec) {
    if (timed_out_) {
      if (parser_->got_some() || buffer_.size() > 0) return reject(408, "request timeout");
      return close();
    }
    if (ec == http::error::body_limit) {
      const RequestParser& req = *parser_;
      write_bad_row(s_.handler.oversized_request_bad_row(req.method_string(), req.target(),
                                                         limits().max_body_bytes + 1, now_ms()));
      return reject(413, "request body too large");
    }
    if (ec == http::error::header_limit) return reject(431, "request headers too large");
    if (ec == http::error::end_of_stream || ec == net::error::eof ||
        ec == net::error::connection_reset || ec == net::error::operation_aborted ||
        !parser_->got_some()) {
      return close();
    }
    reject(400, "malformed request");
  }

  void write_bad_row(const std::string& row) {
    // A bad row that cannot be written is still counted; the error is the bad output's.
    (void)s_.bad.write(row);
    s_.metrics.count_bad_rows(1);
  }

  void on_body(beast::error_code ec, std::size_t n) {
    bytes_in_ += n;
    if (ec) return on_read_error(ec);
    disarm();
    begin_request();
    const RequestParser& req = *parser_;
    keep_alive_ = req.keep_alive() && !s_.draining.load(std::memory_order_relaxed);
    http10_ = req.version() == 10;
    head_ = req.method() == http::verb::head;
    HttpRequest r{req.method_string(), req.target(), headers_, body_, peer_};
    if (s_.app_router && ask_app(r)) return;
    s_.handler.handle(r, now_ms(), outcome_);
    if (outcome_.wants_sink_health && !s_.sink.healthy()) {
      outcome_.response.status = 503;
      outcome_.response.body = "Service Unavailable";
    }
    for (const auto& row : outcome_.bad_rows) write_bad_row(row);
    if (!outcome_.records.empty()) {
      submit_records();
      return;
    }
    send();
  }

  // Offers the request to the application router. While the application works, the session is
  // kept alive by a deadline timer (504 on expiry) and watches its socket, so that a client that
  // disconnects releases it at once; the I/O thread is never blocked.
  bool ask_app(const HttpRequest& r) {
    const uint64_t seq = ++app_seq_;
    AppRespond respond = [gate = s_.gate, weak = weak_from_this(), seq](AppResponse&& res) {
      std::lock_guard<std::mutex> lock(gate->mu);
      if (!gate->open) return;
      auto self = weak.lock();
      if (!self) return;
      auto ex = self->socket_.get_executor();
      net::post(ex, [self = std::move(self), seq, res = std::move(res)]() mutable {
        self->on_app_response(seq, std::move(res));
      });
    };
    awaiting_app_ = true;
    bool taken = true;
    bool failed = false;
    try {
      taken = s_.app_router(r, std::move(respond));
    } catch (...) {
      failed = true;  // an application bug must not take the I/O thread down
    }
    if (failed) {
      AppResponse res;
      res.status = 500;
      res.content_type = "text/plain; charset=UTF-8";
      res.body = "Internal Server Error";
      if (inflight_) {
        inflight_ = false;
        s_.inflight.fetch_sub(1);
      }
      on_app_response(seq, std::move(res));
      return true;
    }
    if (!taken) {
      awaiting_app_ = false;
      ++app_seq_;  // a respond called despite declining is ignored
      return false;
    }
    // Not an in-flight request for the graceful drain: long polls must not delay shutdown.
    if (inflight_) {
      inflight_ = false;
      s_.inflight.fetch_sub(1);
    }
    // The timer now serves the application's deadline: a pending request deadline is dropped.
    disarm();
    deadline_wait_ = false;
    ++deadline_generation_;
    timer_.expires_after(std::chrono::milliseconds(limits().app_response_timeout_ms));
    timer_.async_wait([self = shared_from_this(), seq](beast::error_code ec) {
      if (!ec) self->on_app_timeout(seq);
    });
    watch_disconnect(seq);
    return true;
  }

  void watch_disconnect(uint64_t seq) {
    socket_.async_wait(
        tcp::socket::wait_read, [weak = weak_from_this(), seq](beast::error_code ec) {
          if (ec) return;
          auto self = weak.lock();
          if (!self || !self->awaiting_app_ || seq != self->app_seq_) return;
          char c;
          ssize_t n = ::recv(self->socket_.native_handle(), &c, 1, MSG_PEEK | MSG_DONTWAIT);
          if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
            // The client is gone: drop the request; a later respond finds no session.
            self->awaiting_app_ = false;
            self->close();
          } else if (n < 0) {
            self->watch_disconnect(seq);
          }
          // n > 0: a pipelined request is waiting; the deadline timer keeps the session.
        });
  }

  void on_app_timeout(uint64_t seq) {
    if (!awaiting_app_ || seq != app_seq_) return;
    AppResponse res;
    res.status = 504;
    res.content_type = "text/plain; charset=UTF-8";
    res.body = "Gateway Timeout";
    keep_alive_ = false;
    on_app_response(seq, std::move(res));
  }

  void on_app_response(uint64_t seq, AppResponse&& res) {
    if (!awaiting_app_ || seq != app_seq_) return;
    awaiting_app_ = false;
    ++app_seq_;
    beast::error_code ignored;
    socket_.cancel(ignored);  // the disconnect watch
    outcome_.clear();
    outcome_.route = Route::kApp;
    outcome_.response.status = res.status;
    if (s_.draining.load(std::memory_order_relaxed)) keep_alive_ = false;
    serialize_app(res, keep_alive_, http10_, head_, out_);
    write_out();
  }

  // Hands the records to the sink. The session stays alive through `hold_` until the answer is
  // back on its I/O thread. The callback captures only a raw pointer (no allocation for the
  // std::function); when the sink answers synchronously (buffered mode) on this very thread, the
  // answer is taken directly instead of being posted back through the io_context.
  void submit_records() {
    stored_count_ = outcome_.records.size();
    hold_ = shared_from_this();
    Session* self = this;
    tl_submitting = this;
    sinks::SinkStatus st =
        s_.sink.submit(std::move(outcome_.records), [self](sinks::SinkStatus result) {
          if (tl_submitting == self) {
            self->sync_result_ = result;
            self->sync_done_ = true;
            return;
          }
          // Another thread (fsync mode). The posted handler takes over `hold_`, so that a
          // server stopped meanwhile destroys the session with its unrun handler. The I/O
          // thread does not touch `hold_` until on_stored (the sink's queue orders the accesses).
          net::post(self->socket_.get_executor(),
                    [keep = std::move(self->hold_), result] { keep->on_stored(result); });
        });
    tl_submitting = nullptr;
    outcome_.records.clear();
    if (st != sinks::SinkStatus::kOk) {
      stored_count_ = 0;
      return on_stored(st);
    }
    if (sync_done_) {
      sync_done_ = false;
      on_stored(sync_result_);
    }
  }

  void on_stored(sinks::SinkStatus st) {
    auto keep = std::move(hold_);  // synchronous path: `this` lives until the end of this call
    const std::size_t count = stored_count_;
    if (st == sinks::SinkStatus::kOk) {
      s_.metrics.count_stored(count);
    } else {
      HttpResponse& r = outcome_.response;
      r.status = 503;
      r.content_type = "text/plain; charset=UTF-8";
      r.body = "Service Unavailable";
      r.no_cache = false;
      r.set_cookie.clear();
      r.location.clear();
      r.retry_after = s_.cfg.retry_after_seconds;
    }
    send();
  }

  void reject(int status, std::string_view message) {
    begin_request();
    outcome_.clear();
    outcome_.route = Route::kRejected;
    outcome_.response.status = status;
    outcome_.response.content_type = "text/plain; charset=UTF-8";
    outcome_.response.body.assign(message);
    keep_alive_ = false;
    http10_ = false;
    head_ = false;
    send();
  }

  void send() {
    serialize(outcome_.response, keep_alive_, http10_, head_, out_);
    write_out();
  }

  // Writes the response. Almost always the socket takes it whole at once: then no write
  // operation, deadline or completion handler is set up at all. Only the rest of a partial write
  // goes through async_write, under a deadline.
  void write_out() {
    std::size_t sent = 0;
    while (sent < out_.size()) {
      ssize_t n = ::send(socket_.native_handle(), out_.data() + sent, out_.size() - sent,
                         MSG_NOSIGNAL | MSG_DONTWAIT);
      if (n > 0) {
        sent += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
        return on_write(beast::error_code(errno, beast::system_category()), sent);
      }
      break;  // the socket buffer is full: wait for it below
    }
    if (sent == out_.size()) return on_write({}, sent);
    arm(30'000);
    net::async_write(socket_, net::buffer(out_.data() + sent, out_.size() - sent),
                     [self = shared_from_this(), sent](beast::error_code ec, std::size_t n) {
                       self->disarm();
                       self->on_write(ec, sent + n);
                     });
  }

  void on_write(beast::error_code ec, std::size_t n) {
    s_.metrics.count_request(outcome_.route, outcome_.response.status, bytes_in_, n);
    if (inflight_) {
      inflight_ = false;
      s_.inflight.fetch_sub(1);
    }
    if (ec || !keep_alive_ || s_.draining.load(std::memory_order_relaxed)) return close();
    do_read();
  }

  void close() {
    beast::error_code ec;
    timer_.cancel();
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    socket_.close(ec);
  }

  Server::Impl& s_;
  tcp::socket socket_;
  using Clock = net::steady_timer::clock_type;
  net::steady_timer timer_;
  Clock::time_point deadline_ = Clock::time_point::max();  // max(): none
  bool deadline_wait_ = false;        // a wait_for_deadline() wait is pending on timer_
  uint64_t deadline_generation_ = 0;  // identifies the newest such wait
  bool timed_out_ = false;
  // Read size bounds for the header: the buffer starts with kMinRead bytes, enough for a typical
  // tracking request, and grows as a larger one needs it.
  static constexpr std::size_t kMinRead = 2048;
  static constexpr std::size_t kMaxRead = 65536;
  beast::flat_buffer buffer_;
  std::size_t header_bytes_ = 0;  // bytes of the current header parsed so far
  // The current request (filled by parser_; cleared when the next one starts).
  static constexpr std::size_t kKeptBodyCapacity = 64 * 1024;
  TextArena text_;
  std::vector<Header> headers_;
  std::string body_;
  std::optional<RequestParser> parser_;
  std::string peer_;
  Outcome outcome_;
  std::string out_;
  std::size_t bytes_in_ = 0;
  bool keep_alive_ = false;
  bool http10_ = false;
  bool head_ = false;
  bool inflight_ = false;
  bool awaiting_app_ = false;
  uint64_t app_seq_ = 0;           // identifies the request an AppRespond belongs to
  std::shared_ptr<Session> hold_;  // set while the sink holds our records
  std::size_t stored_count_ = 0;
  bool sync_done_ = false;
  sinks::SinkStatus sync_result_ = sinks::SinkStatus::kOk;

  // The session submitting on this thread, to recognise a synchronous sink callback.
  static inline thread_local Session* tl_submitting = nullptr;
};

// The admin listener: GET /metrics (Prometheus text) and /health; one request per connection.
class AdminSession : public std::enable_shared_from_this<AdminSession> {
 public:
  AdminSession(Server::Impl& s, tcp::socket&& socket) : s_(s), stream_(std::move(socket)) {}
  void start() {
    parser_.header_limit(8192);
    parser_.body_limit(0);
    stream_.expires_after(std::chrono::seconds(10));
    http::async_read(
        stream_, buffer_, parser_,
        [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_read(ec); });
  }

 private:
  void on_read(beast::error_code ec) {
    if (ec) return;
    const auto& req = parser_.get();
    res_.version(11);
    res_.keep_alive(false);
    res_.set(http::field::content_type, "text/plain; charset=UTF-8");
    if (req.method() != http::verb::get) {
      res_.result(http::status::method_not_allowed);
    } else if (req.target() == "/metrics") {
      res_.result(http::status::ok);
      res_.set(http::field::content_type, "text/plain; version=0.0.4");
      res_.body() = s_.metrics.render(s_.sink.stats());
    } else if (req.target() == "/health") {
      res_.result(http::status::ok);
      res_.body() = "ok";
    } else {
      res_.result(http::status::not_found);
      res_.body() = "not found";
    }
    res_.prepare_payload();
    http::async_write(stream_, res_, [self = shared_from_this()](beast::error_code, std::size_t) {
      beast::error_code ignored;
      self->stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
    });
  }

  Server::Impl& s_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  http::request_parser<http::empty_body> parser_;
  http::response<http::string_body> res_;
};

Status open_acceptor(tcp::acceptor& acc, const std::string& host, uint16_t port, bool reuse_port) {
  beast::error_code ec;
  auto addr = net::ip::make_address(host, ec);
  if (ec) return Error{"invalid listen address '" + host + "'"};
  tcp::endpoint ep(addr, port);
  acc.open(ep.protocol(), ec);
  if (!ec) acc.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec && reuse_port) acc.set_option(ReusePort(true), ec);
  if (!ec) acc.bind(ep, ec);
  if (!ec) acc.listen(1024, ec);
  if (ec)
    return Error{"cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message()};
  return {};
}

}  // namespace

void Server::Impl::accept(tcp::acceptor& acc, net::io_context& ctx) {
  acc.async_accept(ctx, [this, &acc, &ctx](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !acc.is_open()) return;
    } else if (draining.load()) {
      return;
    } else if (metrics.connections() >= static_cast<int64_t>(cfg.limits.max_connections)) {
      metrics.connection_refused();
      beast::error_code ignored;
      socket.close(ignored);
    } else {
      socket.set_option(tcp::no_delay(true), ec);
      std::make_shared<Session>(*this, std::move(socket))->start();
    }
    accept(acc, ctx);
  });
}

void Server::Impl::accept_admin() {
  admin->async_accept([this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == net::error::operation_aborted || !admin->is_open()) return;
    } else {
      std::make_shared<AdminSession>(*this, std::move(socket))->start();
    }
    accept_admin();
  });
}

Server::Server(const Handler& handler, sinks::RawSink& sink, BadOutput& bad, Metrics& metrics)
    : impl_(std::make_unique<Impl>(handler, sink, bad, metrics)) {}

Server::~Server() {
  stop();
  for (auto& c : impl_->ioc) c->stop();
  for (auto& t : impl_->threads) {
    if (t.joinable()) t.join();
  }
  impl_->close_gate();
}

void Server::set_app_router(AppRouter router) {
  impl_->app_router = std::move(router);
}

Status Server::start() {
  Impl& m = *impl_;
  unsigned n =
      m.cfg.threads != 0 ? m.cfg.threads : std::max(1u, std::thread::hardware_concurrency());
  uint16_t port = m.cfg.port;
  for (unsigned i = 0; i < n; ++i) {
    m.ioc.push_back(std::make_unique<net::io_context>(1));
    m.acceptors.push_back(std::make_unique<tcp::acceptor>(*m.ioc.back()));
    Status st = open_acceptor(*m.acceptors.back(), m.cfg.host, port, true);
    if (!st.ok()) return st;
    port = m.acceptors.back()->local_endpoint().port();
  }
  m.port = port;
  if (m.cfg.admin_port != 0 || !m.cfg.admin_host.empty()) {
    if (m.cfg.admin_port != 0) {
      m.admin = std::make_unique<tcp::acceptor>(*m.ioc.front());
      Status st = open_acceptor(*m.admin, m.cfg.admin_host, m.cfg.admin_port, false);
      if (!st.ok()) return st;
      m.admin_port = m.admin->local_endpoint().port();
      m.accept_admin();
    }
  }
  for (unsigned i = 0; i < n; ++i) {
    m.accept(*m.acceptors[i], *m.ioc[i]);
    net::io_context* ctx = m.ioc[i].get();
    m.threads.emplace_back([ctx] {
      pthread_setname_np(pthread_self(), "furrow-io");  // for profilers and bench scripts
      auto guard = net::make_work_guard(*ctx);
      ctx->run();
    });
  }
  return {};
}

uint16_t Server::port() const {
  return impl_->port;
}
uint16_t Server::admin_port() const {
  return impl_->admin_port;
}

void Server::stop() {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->stop_requested = true;
  impl_->cv.notify_all();
}

void Server::wait(std::chrono::milliseconds grace) {
  Impl& m = *impl_;
  // SIGTERM / SIGINT are expected to be blocked in every thread (block_termination_signals), so
  // they are collected here synchronously.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(m.mu);
      if (m.stop_requested) break;
    }
    timespec ts{0, 100'000'000};
    int sig = sigtimedwait(&set, nullptr, &ts);
    if (sig == SIGTERM || sig == SIGINT) break;
  }
  m.draining.store(true);
  for (std::size_t i = 0; i < m.acceptors.size(); ++i) {
    tcp::acceptor* acc = m.acceptors[i].get();
    net::post(*m.ioc[i], [acc] {
      beast::error_code ec;
      acc->close(ec);
    });
  }
  if (m.admin) {
    tcp::acceptor* acc = m.admin.get();
    net::post(*m.ioc.front(), [acc] {
      beast::error_code ec;
      acc->close(ec);
    });
  }
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (m.inflight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  for (auto& c : m.ioc) c->stop();
  for (auto& t : m.threads) {
    if (t.joinable()) t.join();
  }
  m.close_gate();
}

void block_termination_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
}

}  // namespace furrow::collector
