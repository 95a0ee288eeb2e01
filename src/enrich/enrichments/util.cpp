#include "enrich/enrichments/util.h"

#include <arpa/inet.h>

#include <cstring>

namespace furrow::enrich::enrichments {

namespace {
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
}  // namespace

void url_decode(std::string_view in, std::string& out, bool plus_as_space) {
  out.clear();
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    char c = in[i];
    if (c == '+' && plus_as_space) {
      out += ' ';
    } else if (c == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
               hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += c;
    }
  }
}

std::vector<std::pair<std::string, std::string>> parse_query(std::string_view query) {
  std::vector<std::pair<std::string, std::string>> out;
  std::string name, value;
  while (!query.empty()) {
    auto amp = query.find('&');
    std::string_view part = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    if (part.empty()) continue;
    auto eq = part.find('=');
    url_decode(part.substr(0, eq), name);
    if (eq == std::string_view::npos) {
      value.clear();
    } else {
      url_decode(part.substr(eq + 1), value);
    }
    out.emplace_back(name, value);
  }
  return out;
}

std::optional<Hasher> Hasher::by_name(std::string_view name) {
  const char* ossl = nullptr;
  if (name == "MD5") ossl = "MD5";
  if (name == "MD2") ossl = "MD2";
  if (name == "SHA1" || name == "SHA-1") ossl = "SHA1";
  if (name == "SHA256" || name == "SHA-256") ossl = "SHA256";
  if (name == "SHA384" || name == "SHA-384") ossl = "SHA384";
  if (name == "SHA512" || name == "SHA-512") ossl = "SHA512";
  if (ossl == nullptr) return std::nullopt;
  const EVP_MD* md = EVP_get_digestbyname(ossl);
  if (md == nullptr) return std::nullopt;
  // MD2 is in OpenSSL 3's legacy provider only; check that it really works.
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest("", 0, buf, &len, md, nullptr) != 1) return std::nullopt;
  return Hasher(md);
}

std::string Hasher::hex(std::string_view data) const {
  unsigned char buf[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  std::string out;
  if (EVP_Digest(data.data(), data.size(), buf, &len, md_, nullptr) != 1) return out;
  static constexpr char kHex[] = "0123456789abcdef";
  out.resize(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out[2 * i] = kHex[buf[i] >> 4];
    out[2 * i + 1] = kHex[buf[i] & 15];
  }
  return out;
}

std::optional<IpAddress> parse_ip(std::string_view text) {
  if (text.size() >= 2 && text.front() == '[' && text.back() == ']') {
    text = text.substr(1, text.size() - 2);
  }
  if (text.empty() || text.size() > 45) return std::nullopt;
  char buf[64];
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  IpAddress ip;
  if (text.find(':') != std::string_view::npos) {
    if (inet_pton(AF_INET6, buf, ip.bytes) != 1) return std::nullopt;
    ip.is_v6 = true;
    return ip;
  }
  if (inet_pton(AF_INET, buf, ip.bytes) != 1) return std::nullopt;
  return ip;
}

}  // namespace furrow::enrich::enrichments
