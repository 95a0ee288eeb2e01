#include "dashboard/dashboard.h"

#include <mutex>
#include <vector>

#include "common/time_format.h"
#include "dashboard/api.h"
#include "dashboard/rollup.h"
#include "dashboard/sqlite_conn.h"
#include "dashboard/web_assets.h"
#include "storage/query_store.h"

namespace furrow::dashboard {
namespace {

constexpr std::size_t kMaxIdleReaders = 4;

void security_headers(Response& out) {
  out.headers.emplace_back("Content-Security-Policy", kContentSecurityPolicy);
  out.headers.emplace_back("X-Content-Type-Options", "nosniff");
  out.headers.emplace_back("Referrer-Policy", "no-referrer");
  out.headers.emplace_back("X-Frame-Options", "DENY");
  out.headers.emplace_back("Cache-Control", "no-store");
}

}  // namespace

struct Dashboard::Impl {
  Options options;
  std::mutex writer_mu;
  std::unique_ptr<Conn> writer;
  std::function<bool()> interrupt;  // guarded by writer_mu (see interrupt_when)
  std::mutex readers_mu;
  std::vector<std::unique_ptr<Conn>> idle;

  // Installs (or removes, for an empty `interrupt`) the writer's progress handler; writer_mu held.
  void arm_interrupt() {
    if (!interrupt) {
      sqlite3_progress_handler(writer->raw(), 0, nullptr, nullptr);
      return;
    }
    sqlite3_progress_handler(
        writer->raw(), 1000, [](void* arg) { return static_cast<Impl*>(arg)->interrupt() ? 1 : 0; },
        this);
  }

  int64_t now() const { return options.now_ms ? options.now_ms() : furrow::now_ms(); }

  Result<std::unique_ptr<Conn>> borrow() {
    {
      std::lock_guard lock(readers_mu);
      if (!idle.empty()) {
        auto c = std::move(idle.back());
        idle.pop_back();
        return c;
      }
    }
    return Conn::open(options.db, true);
  }
  void give_back(std::unique_ptr<Conn> c) {
    std::lock_guard lock(readers_mu);
    if (idle.size() < kMaxIdleReaders) idle.push_back(std::move(c));
  }
};

Dashboard::Dashboard(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Dashboard::~Dashboard() = default;

Result<std::unique_ptr<Dashboard>> Dashboard::open(const Options& options) {
  auto impl = std::make_unique<Impl>();
  impl->options = options;
  auto& base = impl->options.base_path;
  if (base.empty() || base.front() != '/') base.insert(base.begin(), '/');
  if (base.back() != '/') base.push_back('/');
  {
    // Creates the database with the atomic schema when it does not exist yet, so the readers
    // (which cannot create anything) always find the tables.
    auto store = storage::QueryStore::open("sqlite:" + options.db.string());
    if (!store)
      return Error{"dashboard database " + options.db.string() + ": " + store.error().message};
  }
  auto writer = Conn::open(options.db, false);
  if (!writer) return writer.error();
  // WAL as the loader uses; NORMAL sync is crash-safe in WAL mode (a power loss may drop the last
  // refresh, watermark included, which the next refresh redoes); a 64 MB page cache keeps the
  // rollup B-trees in memory during a large first refresh.
  for (const char* pragma :
       {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=NORMAL", "PRAGMA cache_size=-65536"}) {
    if (Status st = (*writer)->exec(pragma); !st) return st.error();
  }
  if (Status st = ensure_rollup_schema(**writer); !st) {
    return Error{"dashboard database " + options.db.string() + ": " + st.message()};
  }
  impl->writer = std::move(*writer);
  return std::unique_ptr<Dashboard>(new Dashboard(std::move(impl)));
}

Status Dashboard::refresh() {
  std::lock_guard lock(impl_->writer_mu);
  Status st = refresh_rollups(*impl_->writer, [this] { return impl_->now(); });
  if (!st.ok() && !sqlite3_get_autocommit(impl_->writer->raw())) {
    // An interrupted (or failed) chunk whose rollback did not go through: its snapshot must not
    // outlive the refresh. The interrupt check is off meanwhile.
    sqlite3_progress_handler(impl_->writer->raw(), 0, nullptr, nullptr);
    (void)impl_->writer->exec("ROLLBACK");
    impl_->arm_interrupt();
  }
  return st;
}

void Dashboard::interrupt_when(std::function<bool()> check) {
  std::lock_guard lock(impl_->writer_mu);
  impl_->interrupt = std::move(check);
  impl_->arm_interrupt();
}

bool Dashboard::handle(const collector::HttpRequest& req, Response& out) {
  std::string_view path = req.target;
  std::string_view query;
  if (auto q = path.find('?'); q != std::string_view::npos) {
    query = path.substr(q + 1);
    path = path.substr(0, q);
  }
  const std::string& base = impl_->options.base_path;
  const bool api = path.starts_with("/api/");
  const bool under_base = path.starts_with(base);
  const bool base_without_slash =
      base.size() > 1 && path == std::string_view(base).substr(0, base.size() - 1);
  std::string_view rel;
  const WebAsset* asset = nullptr;
  if (!api && under_base) {
    rel = path.substr(base.size());
    if (rel.empty()) rel = "index.html";
    for (const auto& a : web_assets()) {
      if (a.name == rel) asset = &a;
    }
    if (!asset) return false;
  } else if (!api && !base_without_slash) {
    return false;
  }
  out = Response{};
  security_headers(out);
  if (req.method != "GET" && req.method != "HEAD") {
    out.status = 405;
    out.content_type = "application/json; charset=utf-8";
    out.body = R"({"error":"method not allowed"})";
    out.headers.emplace_back("Allow", "GET, HEAD");
    return true;
  }
  if (base_without_slash && !api) {
    out.status = 308;
    out.headers.emplace_back("Location", base);
    return true;
  }
  if (asset) {
    out.status = 200;
    out.content_type = std::string(asset->content_type);
    if (req.method == "GET") out.body = std::string(asset->data);
    return true;
  }
  auto conn = impl_->borrow();
  if (!conn) {
    out.status = 503;
    out.content_type = "application/json; charset=utf-8";
    out.body = R"({"error":"database unavailable"})";
    return true;
  }
  handle_api(**conn, path, query, impl_->now(), out);
  impl_->give_back(std::move(*conn));
  if (req.method == "HEAD") out.body.clear();
  return true;
}

}  // namespace furrow::dashboard
