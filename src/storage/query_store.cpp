#include "storage/query_store.h"

#include <libpq-fe.h>
#include <sqlite3.h>

#include <charconv>
#include <cstdlib>

#include "sinks/loader.h"
#include "sinks/postgres_loader.h"
#include "sinks/sqlite_loader.h"

namespace furrow::storage {
namespace {

// PostgreSQL type OIDs (pg_type.dat); stable across versions.
constexpr Oid kBoolOid = 16, kInt8Oid = 20, kInt2Oid = 21, kInt4Oid = 23, kOidOid = 26,
              kFloat4Oid = 700, kFloat8Oid = 701, kNumericOid = 1700, kTimestampOid = 1114,
              kTimestamptzOid = 1184;

class SqliteStore final : public QueryStore {
 public:
  explicit SqliteStore(sqlite3* db) : db_(db) {}
  ~SqliteStore() override { sqlite3_close_v2(db_); }
  Dialect dialect() const override { return Dialect::kSqlite; }

  Status exec(std::string_view sql) override { return sinks::sqlite_exec(db_, std::string(sql)); }

  Status query(std::string_view sql, const std::vector<std::string>& params,
               const RowHandler& handler) override {
    sqlite3_stmt* s = nullptr;
    const char* tail = nullptr;
    if (sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &s, &tail) != SQLITE_OK) {
      return Error{std::string("sqlite: ") + sqlite3_errmsg(db_)};
    }
    if (s == nullptr) return Error{"sqlite: empty statement"};
    for (std::size_t i = 0; i < params.size(); ++i) {
      sqlite3_bind_text(s, static_cast<int>(i + 1), params[i].data(),
                        static_cast<int>(params[i].size()), SQLITE_STATIC);
    }
    const int n = sqlite3_column_count(s);
    std::vector<Column> cols(static_cast<std::size_t>(n));
    for (int i = 0; i < n; ++i) cols[static_cast<std::size_t>(i)].name = sqlite3_column_name(s, i);
    std::vector<Cell> cells(static_cast<std::size_t>(n));
    std::vector<std::string> text(static_cast<std::size_t>(n));
    bool first = true;
    int rc = SQLITE_ROW;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      for (int i = 0; i < n; ++i) {
        const auto k = static_cast<std::size_t>(i);
        const int type = sqlite3_column_type(s, i);
        cells[k].null = type == SQLITE_NULL;
        if (type == SQLITE_FLOAT) {
          text[k] = format_double(sqlite3_column_double(s, i));
          cells[k].text = text[k];
        } else if (type != SQLITE_NULL) {
          const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(s, i));
          cells[k].text = std::string_view(p == nullptr ? "" : p,
                                           static_cast<std::size_t>(sqlite3_column_bytes(s, i)));
        } else {
          cells[k].text = {};
        }
        // The first row decides the JSON kind (SQLite types are per value).
        if (first)
          cols[k].kind = type == SQLITE_INTEGER || type == SQLITE_FLOAT ? ValueKind::kNumber
                                                                        : ValueKind::kText;
      }
      if (first) {
        if (handler.on_columns) handler.on_columns(cols);
        first = false;
      }
      if (handler.on_row && !handler.on_row(cells)) break;
    }
    Status st;
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      st = Error{std::string("sqlite: ") + sqlite3_errmsg(db_)};
    if (first && st && handler.on_columns) handler.on_columns(cols);
    sqlite3_finalize(s);
    if (st && tail != nullptr) {
      std::string_view rest(tail);
      while (!rest.empty() && (rest.front() == ' ' || rest.front() == '\n' || rest.front() == ';' ||
                               rest.front() == '\t' || rest.front() == '\r')) {
        rest.remove_prefix(1);
      }
      if (!rest.empty()) return Error{"only one statement is allowed here"};
    }
    return st;
  }

 private:
  sqlite3* db_;
};

class PostgresStore final : public QueryStore {
 public:
  explicit PostgresStore(PGconn* c) : c_(c) {}
  ~PostgresStore() override { PQfinish(c_); }
  Dialect dialect() const override { return Dialect::kPostgres; }

  Status exec(std::string_view sql) override { return sinks::pg_exec(c_, std::string(sql)); }

  Status query(std::string_view sql, const std::vector<std::string>& params,
               const RowHandler& handler) override {
    std::vector<const char*> values;
    for (const auto& p : params) values.push_back(p.c_str());
    const std::string q(sql);
    if (PQsendQueryParams(c_, q.c_str(), static_cast<int>(values.size()), nullptr, values.data(),
                          nullptr, nullptr, 0) != 1) {
      return error(nullptr);
    }
    PQsetSingleRowMode(c_);
    std::vector<Column> cols;
    std::vector<Oid> oids;
    std::vector<Cell> cells;
    std::vector<std::string> text;
    bool have_columns = false, stop = false;
    Status st;
    while (PGresult* r = PQgetResult(c_)) {
      const auto status = PQresultStatus(r);
      if (status == PGRES_SINGLE_TUPLE || status == PGRES_TUPLES_OK) {
        if (!have_columns) {
          have_columns = true;
          const int n = PQnfields(r);
          for (int i = 0; i < n; ++i) {
            const Oid t = PQftype(r, i);
            oids.push_back(t);
            const bool num = t == kInt2Oid || t == kInt4Oid || t == kInt8Oid || t == kOidOid ||
                             t == kFloat4Oid || t == kFloat8Oid || t == kNumericOid ||
                             t == kBoolOid;
            cols.push_back(Column{PQfname(r, i), num ? ValueKind::kNumber : ValueKind::kText});
          }
          cells.resize(cols.size());
          text.resize(cols.size());
          if (handler.on_columns) handler.on_columns(cols);
        }
        for (int row = 0; row < PQntuples(r) && !stop; ++row) {
          for (std::size_t i = 0; i < cols.size(); ++i) {
            const int k = static_cast<int>(i);
            cells[i].null = PQgetisnull(r, row, k) != 0;
            std::string_view v(PQgetvalue(r, row, k),
                               static_cast<std::size_t>(PQgetlength(r, row, k)));
            cells[i].text = canonical(oids[i], v, text[i]);
          }
          if (handler.on_row && !handler.on_row(cells)) stop = true;
        }
      } else if (status != PGRES_COMMAND_OK && st) {
        st = error(r);
      }
      PQclear(r);
    }
    if (st && !have_columns && handler.on_columns) handler.on_columns(cols);
    return st;
  }

 private:
  Error error(PGresult* r) {
    std::string m = "postgres: ";
    m += r != nullptr ? PQresultErrorMessage(r) : PQerrorMessage(c_);
    while (!m.empty() && (m.back() == '\n' || m.back() == ' ')) m.pop_back();
    return Error{std::move(m)};
  }

  // PostgreSQL's text output turned into the canonical form (see query_store.h).
  static std::string_view canonical(Oid type, std::string_view v, std::string& buf) {
    switch (type) {
      case kBoolOid:
        return v == "t" ? "1" : "0";
      case kFloat4Oid:
      case kFloat8Oid: {
        double d = 0;
        auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
        if (ec != std::errc() || p != v.data() + v.size()) return v;  // NaN, Infinity
        buf = format_double(d);
        return buf;
      }
      case kTimestampOid:
      case kTimestamptzOid: {
        // "yyyy-MM-dd HH:mm:ss[.f{1,6}][+zz]" → exactly three fractional digits.
        if (v.size() < 19 || v[4] != '-' || v[10] != ' ') return v;
        buf.assign(v.substr(0, 19));
        std::string_view rest = v.substr(19);
        std::string frac;
        if (!rest.empty() && rest.front() == '.') {
          rest.remove_prefix(1);
          while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
            frac += rest.front();
            rest.remove_prefix(1);
          }
        }
        frac.resize(3, '0');
        buf += '.';
        buf += frac;
        buf.append(rest);  // a time zone suffix (timestamptz) is kept
        return buf;
      }
      default:
        return v;
    }
  }

  PGconn* c_;
};

}  // namespace

std::string format_double(double v) {
  char b[64];
  auto [p, ec] = std::to_chars(b, b + sizeof b, v);
  return ec == std::errc() ? std::string(b, p) : std::string();
}

Result<std::unique_ptr<QueryStore>> QueryStore::open(std::string_view url) {
  auto target = sinks::parse_db_target(url);
  if (!target) return target.error();
  if (target->dialect == Dialect::kSqlite) {
    auto db = sinks::open_sqlite_database(target->location);
    if (!db) return db.error();
    return std::unique_ptr<QueryStore>(std::make_unique<SqliteStore>(*db));
  }
  auto c = sinks::open_postgres_database(target->location);
  if (!c) return c.error();
  return std::unique_ptr<QueryStore>(std::make_unique<PostgresStore>(*c));
}

Result<std::string> QueryStore::scalar(std::string_view sql,
                                       const std::vector<std::string>& params) {
  std::string out;
  bool got = false;
  Status st = query(sql, params, RowHandler{nullptr, [&](const std::vector<Cell>& row) {
                                              if (!got && !row.empty() && !row[0].null)
                                                out.assign(row[0].text);
                                              got = true;
                                              return false;
                                            }});
  if (!st) return st.error();
  return out;
}

}  // namespace furrow::storage
