#include "storage/export.h"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <algorithm>
#include <charconv>
#include <vector>

#include "sinks/loader_schema.h"

namespace furrow::storage {
namespace {

// Buffers output and writes it in large blocks.
class Out {
 public:
  explicit Out(std::FILE* f) : f_(f) {}
  std::string& buf() { return buf_; }
  Status maybe_flush() {
    if (buf_.size() >= (1u << 20)) return flush();
    return Status::Ok();
  }
  Status flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
      return Error{"write failed"};
    }
    buf_.clear();
    return std::fflush(f_) == 0 ? Status::Ok() : Status(Error{"write failed"});
  }

 private:
  std::FILE* f_;
  std::string buf_;
};

void csv_field(std::string& o, const Cell& c) {
  if (c.null) return;
  const bool quote = c.text.empty() || c.text.find_first_of(",\"\r\n") != std::string_view::npos;
  if (!quote) {
    o.append(c.text);
    return;
  }
  o += '"';
  for (char ch : c.text) {
    if (ch == '"') o += '"';
    o += ch;
  }
  o += '"';
}

void tsv_field(std::string& o, std::string_view v) {
  for (char ch : v) {
    switch (ch) {
      case '\\':
        o += "\\\\";
        break;
      case '\t':
        o += "\\t";
        break;
      case '\n':
        o += "\\n";
        break;
      case '\r':
        o += "\\r";
        break;
      default:
        o += ch;
    }
  }
}

bool is_json_number(std::string_view v) {
  double d = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), d);
  // JSON has no leading '+', no "inf"/"nan", no leading '.'.
  return ec == std::errc() && p == v.data() + v.size() && !v.empty() &&
         (v[0] == '-' || (v[0] >= '0' && v[0] <= '9')) &&
         v.find_first_of("iInN") == std::string_view::npos;
}

// Display width in characters (UTF-8 continuation bytes do not count).
std::size_t width(std::string_view s) {
  std::size_t n = 0;
  for (char c : s) n += (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  return n;
}

std::string display(const Cell& c) {
  if (c.null) return "NULL";
  std::string s;
  std::size_t chars = 0;
  for (std::size_t i = 0; i < c.text.size(); ++i) {
    const char ch = c.text[i];
    if ((static_cast<unsigned char>(ch) & 0xC0) != 0x80 && ++chars > 80) {
      s += "...";
      break;
    }
    if (ch == '\t')
      s += "\\t";
    else if (ch == '\n')
      s += "\\n";
    else if (ch == '\r')
      s += "\\r";
    else
      s += ch;
  }
  return s;
}

}  // namespace

Result<ExportFormat> parse_export_format(std::string_view name) {
  if (name == "csv") return ExportFormat::kCsv;
  if (name == "tsv") return ExportFormat::kTsv;
  if (name == "jsonl" || name == "json" || name == "ndjson") return ExportFormat::kJsonl;
  if (name == "table") return ExportFormat::kTable;
  return Error{"unknown format '" + std::string(name) + "': expected csv, tsv, jsonl or table"};
}

std::string select_all(std::string_view table) {
  return "SELECT * FROM " + sinks::quote_ident(table);
}

Status export_query(QueryStore& store, std::string_view sql, const ExportOptions& options,
                    std::FILE* out, uint64_t* rows) {
  Out o(out);
  std::vector<Column> cols;
  std::vector<std::vector<std::string>> table;  // kTable only
  uint64_t n = 0, more = 0;
  Status write_status;
  RowHandler h;
  h.on_columns = [&](const std::vector<Column>& c) {
    cols = c;
    if (!options.header) return;
    std::string& b = o.buf();
    if (options.format == ExportFormat::kCsv) {
      for (std::size_t i = 0; i < cols.size(); ++i) {
        if (i) b += ',';
        csv_field(b, Cell{false, cols[i].name});
      }
      b += "\r\n";
    } else if (options.format == ExportFormat::kTsv) {
      for (std::size_t i = 0; i < cols.size(); ++i) {
        if (i) b += '\t';
        tsv_field(b, cols[i].name);
      }
      b += '\n';
    }
  };
  h.on_row = [&](const std::vector<Cell>& row) {
    std::string& b = o.buf();
    switch (options.format) {
      case ExportFormat::kCsv:
        for (std::size_t i = 0; i < row.size(); ++i) {
          if (i) b += ',';
          csv_field(b, row[i]);
        }
        b += "\r\n";
        break;
      case ExportFormat::kTsv:
        for (std::size_t i = 0; i < row.size(); ++i) {
          if (i) b += '\t';
          if (!row[i].null) tsv_field(b, row[i].text);
        }
        b += '\n';
        break;
      case ExportFormat::kJsonl: {
        rapidjson::StringBuffer sb;
        rapidjson::Writer<rapidjson::StringBuffer> w(sb);
        w.StartObject();
        for (std::size_t i = 0; i < row.size(); ++i) {
          w.Key(cols[i].name.data(), static_cast<rapidjson::SizeType>(cols[i].name.size()));
          const auto& c = row[i];
          if (c.null) {
            w.Null();
          } else if (cols[i].kind == ValueKind::kNumber && is_json_number(c.text)) {
            w.RawValue(c.text.data(), c.text.size(), rapidjson::kNumberType);
          } else {
            w.String(c.text.data(), static_cast<rapidjson::SizeType>(c.text.size()));
          }
        }
        w.EndObject();
        b.append(sb.GetString(), sb.GetSize());
        b += '\n';
        break;
      }
      case ExportFormat::kTable:
        if (table.size() >= options.max_rows) {
          ++more;
          return true;
        }
        {
          auto& r = table.emplace_back();
          for (const auto& c : row) r.push_back(display(c));
        }
        break;
    }
    ++n;
    write_status = o.maybe_flush();
    return write_status.ok();
  };
  Status st = store.query(sql, {}, h);
  if (!st) return st;
  if (!write_status) return write_status;
  if (options.format == ExportFormat::kTable) {
    std::vector<std::size_t> w(cols.size());
    for (std::size_t i = 0; i < cols.size(); ++i) w[i] = width(cols[i].name);
    for (const auto& r : table) {
      for (std::size_t i = 0; i < r.size(); ++i) w[i] = std::max(w[i], width(r[i]));
    }
    std::string& b = o.buf();
    auto line = [&](const std::vector<std::string>& cells, bool numeric_right) {
      for (std::size_t i = 0; i < cells.size(); ++i) {
        if (i) b += " | ";
        const std::size_t pad = w[i] - width(cells[i]);
        const bool right = numeric_right && cols[i].kind == ValueKind::kNumber;
        if (right) b.append(pad, ' ');
        b += cells[i];
        if (!right && i + 1 < cells.size()) b.append(pad, ' ');
      }
      b += '\n';
    };
    std::vector<std::string> names;
    for (const auto& c : cols) names.push_back(c.name);
    line(names, false);
    for (std::size_t i = 0; i < cols.size(); ++i) {
      if (i) b += "-+-";
      b.append(w[i], '-');
    }
    b += '\n';
    for (const auto& r : table) line(r, true);
    b += "(" + std::to_string(n) + (n == 1 ? " row" : " rows");
    if (more > 0) b += ", " + std::to_string(more) + " more not shown";
    b += ")\n";
  }
  if (rows != nullptr) *rows = n;
  return o.flush();
}

}  // namespace furrow::storage
