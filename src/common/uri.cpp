#include "common/uri.h"

#include <arpa/inet.h>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include <cstdint>

namespace furrow {
namespace {

// ---- Character classes of java.net.URI (RFC 2396 section 2 and appendix A) ----------------

enum : uint32_t {
  kAlpha = 1u << 0,
  kDigit = 1u << 1,
  kMark = 1u << 2,      // - _ . ! ~ * ' ( )
  kReserved = 1u << 3,  // ; / ? : @ & = + $ , [ ]
  kHex = 1u << 4,
  kDash = 1u << 5,
  kSchemeExtra = 1u << 6,    // + - .
  kPcharExtra = 1u << 7,     // : @ & = + $ ,
  kPathExtra = 1u << 8,      // ; /
  kUserinfoExtra = 1u << 9,  // ; : & = + $ ,
  kRegNameExtra = 1u << 10,  // $ , ; : @ & = +
  kServerExtra = 1u << 11,   // . : @ [ ]
  kScopeExtra = 1u << 12,    // _ .
  kEscaped = 1u << 31,       // '%' escapes and visible non-ASCII ("other") are allowed
};

constexpr uint32_t kAlphanum = kAlpha | kDigit;
constexpr uint32_t kUnreserved = kAlphanum | kMark;
constexpr uint32_t kUric = kReserved | kUnreserved | kEscaped;
constexpr uint32_t kPchar = kUnreserved | kEscaped | kPcharExtra;
constexpr uint32_t kPath = kPchar | kPathExtra;
constexpr uint32_t kScheme = kAlphanum | kSchemeExtra;
constexpr uint32_t kUserinfo = kUnreserved | kEscaped | kUserinfoExtra;
constexpr uint32_t kRegName = kUnreserved | kEscaped | kRegNameExtra;
constexpr uint32_t kServer = kUserinfo | kAlphanum | kDash | kServerExtra;
constexpr uint32_t kScopeId = kAlphanum | kScopeExtra;

// Indexed by any byte: NUL and bytes >= 0x80 are in no class (non-ASCII is handled by
// scan_escape), so a class test is one load and one AND.
struct Table {
  uint32_t bits[256] = {};
  constexpr Table() {
    for (int c = 'a'; c <= 'z'; ++c) bits[c] |= kAlpha;
    for (int c = 'A'; c <= 'Z'; ++c) bits[c] |= kAlpha;
    for (int c = '0'; c <= '9'; ++c) bits[c] |= kDigit | kHex;
    for (int c = 'a'; c <= 'f'; ++c) bits[c] |= kHex;
    for (int c = 'A'; c <= 'F'; ++c) bits[c] |= kHex;
    for (char c : std::string_view("-_.!~*'()")) bits[static_cast<int>(c)] |= kMark;
    for (char c : std::string_view(";/?:@&=+$,[]")) bits[static_cast<int>(c)] |= kReserved;
    bits[static_cast<int>('-')] |= kDash;
    for (char c : std::string_view("+-.")) bits[static_cast<int>(c)] |= kSchemeExtra;
    for (char c : std::string_view(":@&=+$,")) bits[static_cast<int>(c)] |= kPcharExtra;
    for (char c : std::string_view(";/")) bits[static_cast<int>(c)] |= kPathExtra;
    for (char c : std::string_view(";:&=+$,")) bits[static_cast<int>(c)] |= kUserinfoExtra;
    for (char c : std::string_view("$,;:@&=+")) bits[static_cast<int>(c)] |= kRegNameExtra;
    for (char c : std::string_view(".:@[]")) bits[static_cast<int>(c)] |= kServerExtra;
    for (char c : std::string_view("_.")) bits[static_cast<int>(c)] |= kScopeExtra;
  }
};
constexpr Table kTable;

bool in_class(unsigned char c, uint32_t mask) {
  return (kTable.bits[c] & mask) != 0;
}
bool is_hex(char c) {
  return in_class(static_cast<unsigned char>(c), kHex);
}
int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

// Length of the UTF-8 sequence at s[p] and its code point; invalid sequences decode as U+FFFD
// with length 1, as Java's decoder replaces them.
std::size_t utf8_at(std::string_view s, std::size_t p, uint32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[p]);
  std::size_t len = 0;
  uint32_t min = 0;
  if (b0 < 0x80) {
    cp = b0;
    return 1;
  } else if ((b0 & 0xE0) == 0xC0) {
    len = 2, cp = b0 & 0x1F, min = 0x80;
  } else if ((b0 & 0xF0) == 0xE0) {
    len = 3, cp = b0 & 0x0F, min = 0x800;
  } else if ((b0 & 0xF8) == 0xF0) {
    len = 4, cp = b0 & 0x07, min = 0x10000;
  } else {
    cp = 0xFFFD;
    return 1;
  }
  if (p + len > s.size()) {
    cp = 0xFFFD;
    return 1;
  }
  for (std::size_t i = 1; i < len; ++i) {
    const auto b = static_cast<unsigned char>(s[p + i]);
    if ((b & 0xC0) != 0x80) {
      cp = 0xFFFD;
      return 1;
    }
    cp = (cp << 6) | (b & 0x3F);
  }
  if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
    cp = 0xFFFD;
    return 1;
  }
  return len;
}

// java.net.URI accepts unescaped non-ASCII characters that are visible: above U+0080, not a
// Unicode space separator, not an ISO control.
bool visible_other(uint32_t cp) {
  if (cp <= 0xA0) return false;
  if (cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
      cp == 0x202F || cp == 0x205F || cp == 0x3000) {
    return false;
  }
  return true;
}

#if defined(__SSE2__)
// Bit k set when byte k of x is not in the path class (kPath) or, for kQuery, not in the query
// class (kUric): outside '!'..'~' (controls, space, DEL, bytes >= 0x80, which are negative as
// signed bytes) or one of the printable bytes the class lacks:
//   path:  " # % < > ? [ \ ] ^ ` { | }      query: " # % < > \ ^ ` { | }
// ('%' and non-ASCII belong to kEscaped, which the byte loop checks.) SSE2 has only equality and
// signed greater-than, so neighbours are tested together: (x | 1) == 0x23 is '"' or '#',
// (x & 0xFD) == 0x3C is '<' or '>', and ranges take two compares.
template <bool kQuery>
__attribute__((always_inline)) inline unsigned not_uri_class_mask(__m128i x) {
  const auto set = [](int c) { return _mm_set1_epi8(static_cast<char>(c)); };
  const auto eq = [](__m128i a, __m128i b) { return _mm_cmpeq_epi8(a, b); };
  const __m128i x1 = _mm_or_si128(x, set(1));
  const __m128i xfd = _mm_and_si128(x, set(0xFD));
  __m128i out = _mm_or_si128(_mm_cmpgt_epi8(set(0x21), x), _mm_cmpgt_epi8(x, set(0x7E)));
  out = _mm_or_si128(out, _mm_or_si128(eq(x1, set(0x23)), eq(x, set('%'))));
  out = _mm_or_si128(out, _mm_or_si128(eq(xfd, set(0x3C)), eq(x, set('`'))));
  // '{' '|' '}': 0x7A < x < 0x7E.
  out =
      _mm_or_si128(out, _mm_and_si128(_mm_cmpgt_epi8(x, set(0x7A)), _mm_cmpgt_epi8(set(0x7E), x)));
  if constexpr (kQuery) {
    out = _mm_or_si128(out, eq(xfd, set(0x5C)));  // '\\' '^'
  } else {
    out = _mm_or_si128(out, eq(x, set('?')));
    // '[' '\\' ']' '^': 0x5A < x < 0x5F.
    out = _mm_or_si128(out,
                       _mm_and_si128(_mm_cmpgt_epi8(x, set(0x5A)), _mm_cmpgt_epi8(set(0x5F), x)));
  }
  return static_cast<unsigned>(_mm_movemask_epi8(out));
}
#endif

// java.net.URI's parser. kBlocks: the path, the query and the authority's end are scanned 16
// bytes at a time (SSE2, part of x86-64: inline, no run-time check); without it, byte by byte
// (the reference the block scans are tested against, detail::parse_uri_bytewise).
template <bool kBlocks>
class JavaUriParser {
 public:
  explicit JavaUriParser(std::string_view s) : s_(s), n_(s.size()) {}

  bool parse(UriParts& parts, std::string& error) {
    parts = UriParts{};
    parts_ = &parts;
    error_ = &error;
    std::size_t p = scan_until(0, n_, "/?#", ":");
    if (p != kNone && at(p, ':')) {
      if (p == 0) return fail_expecting("scheme name", 0);
      if (!in_class(static_cast<unsigned char>(s_[0]), kAlpha))
        return fail("Illegal character in scheme name", 0);
      if (!check_chars(1, p, kScheme, "scheme name")) return false;
      parts.scheme = s_.substr(0, p);
      ++p;
      if (at(p, '/')) {
        if (!parse_hierarchical(p, p)) return false;
      } else {
        const std::size_t q = scan_until(p, n_, "", "#");
        if (q <= p) return fail_expecting("scheme-specific part", p);
        if (!check_chars(p, q, kUric, "opaque part")) return false;
        p = q;
      }
    } else {
      if (!parse_hierarchical(0, p)) return false;
    }
    if (at(p, '#')) {
      if (!check_chars(p + 1, n_, kUric, "fragment")) return false;
      parts.fragment = s_.substr(p + 1);
      p = n_;
    }
    if (p < n_) return fail("Expected end of URI", p);
    return true;
  }

 private:
  static constexpr std::size_t kNone = static_cast<std::size_t>(-1);

  bool at(std::size_t p, char c) const { return p < n_ && s_[p] == c; }

  // Scans from `start` up to the first char in `stop` (returning its index) or `end`; returns
  // kNone when a char of `err` comes first. The sets are tiny, so they are tested inline.
  static bool in_set(char c, std::string_view set) {
    for (char x : set) {
      if (x == c) return true;
    }
    return false;
  }
  std::size_t scan_until(std::size_t start, std::size_t end, std::string_view err,
                         std::string_view stop) const {
    for (std::size_t p = start; p < end; ++p) {
      const char c = s_[p];
      // Fast reject: every delimiter used here is ASCII punctuation.
      if (in_class(static_cast<unsigned char>(c), kAlphanum)) continue;
      if (in_set(c, err)) return kNone;
      if (in_set(c, stop)) return p;
    }
    return end;
  }

  // Returns the index after the escape or visible non-ASCII char at p, p when there is none;
  // kNone for a malformed escape.
  std::size_t scan_escape(std::size_t p, std::size_t end) const {
    const char c = s_[p];
    if (c == '%') {
      if (p + 3 <= end && is_hex(s_[p + 1]) && is_hex(s_[p + 2])) return p + 3;
      return kNone;
    }
    if (static_cast<unsigned char>(c) >= 0x80) {
      uint32_t cp = 0;
      const std::size_t len = utf8_at(s_, p, cp);
      if (p + len <= end && visible_other(cp)) return p + len;
    }
    return p;
  }

  // Scans chars of `mask` from `start`; stops at the first other char. Sets malformed_ when a bad
  // escape stopped the scan.
  std::size_t scan_mask(std::size_t start, std::size_t end, uint32_t mask) {
    std::size_t p = start;
    while (p < end) {
      const auto c = static_cast<unsigned char>(s_[p]);
      if (in_class(c, mask)) {
        ++p;
        continue;
      }
      if (mask & kEscaped) {
        const std::size_t q = scan_escape(p, end);
        if (q == kNone) {
          malformed_at_ = p;
          return p;
        }
        if (q > p) {
          p = q;
          continue;
        }
      }
      break;
    }
    return p;
  }

  // scan_mask(start, n_, kMask) for the path (kPath) and query (kUric) classes: whole 16-byte
  // blocks of class bytes are skipped at once; inside a block the scan stops at the first other
  // byte exactly, and an escape or visible non-ASCII character there is stepped over as
  // scan_mask does. The last < 16 bytes go to scan_mask.
  template <uint32_t kMask>
  std::size_t scan_component(std::size_t start) {
    static_assert(kMask == kPath || kMask == kUric);
#if defined(__SSE2__)
    if constexpr (kBlocks) {
      const char* const s = s_.data();
      std::size_t p = start;
      while (n_ - p >= 16) {
        const unsigned m = not_uri_class_mask<kMask == kUric>(
            _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + p)));
        if (m == 0) {
          p += 16;
          continue;
        }
        p += static_cast<unsigned>(__builtin_ctz(m));
        const std::size_t q = scan_escape(p, n_);
        if (q == kNone) {
          malformed_at_ = p;
          return p;
        }
        if (q == p) return p;  // not in the class
        p = q;
      }
      return scan_mask(p, n_, kMask);
    }
#endif
    return scan_mask(start, n_, kMask);
  }

  bool check_chars(std::size_t start, std::size_t end, uint32_t mask, std::string_view what) {
    malformed_at_ = kNone;
    const std::size_t p = scan_mask(start, end, mask);
    if (p < end) {
      if (malformed_at_ == p) return fail("Malformed escape pair", p);
      return fail("Illegal character in " + std::string(what), p);
    }
    return true;
  }

  // check_chars over [start, first char of `delimiters` or the end), in one scan; `end` gets
  // that bound.
  template <uint32_t kMask>
  bool check_component(std::size_t start, std::string_view delimiters, std::string_view what,
                       std::size_t& end) {
    malformed_at_ = kNone;
    const std::size_t p = scan_component<kMask>(start);
    if (p < n_ && !in_set(s_[p], delimiters)) {
      if (malformed_at_ == p) return fail("Malformed escape pair", p);
      return fail("Illegal character in " + std::string(what), p);
    }
    end = p;
    return true;
  }

  // scan_until(start, n_, "", "/?#"): the first '/', '?' or '#' from start, or n_.
  std::size_t authority_end(std::size_t start) const {
#if defined(__SSE2__)
    if constexpr (kBlocks) {
      const char* const s = s_.data();
      std::size_t p = start;
      const __m128i slash = _mm_set1_epi8('/'), question = _mm_set1_epi8('?');
      const __m128i hash = _mm_set1_epi8('#');
      for (; n_ - p >= 16; p += 16) {
        const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(s + p));
        const __m128i hit =
            _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(x, slash), _mm_cmpeq_epi8(x, question)),
                         _mm_cmpeq_epi8(x, hash));
        const auto m = static_cast<unsigned>(_mm_movemask_epi8(hit));
        if (m != 0) return p + static_cast<unsigned>(__builtin_ctz(m));
      }
      return scan_until(p, n_, "", "/?#");
    }
#endif
    return scan_until(start, n_, "", "/?#");
  }

  bool parse_hierarchical(std::size_t start, std::size_t& out) {
    std::size_t p = start;
    if (at(p, '/') && at(p + 1, '/')) {
      p += 2;
      const std::size_t q = authority_end(p);
      if (q > p) {
        if (!parse_authority(p, q)) return false;
        p = q;
      } else if (q >= n_) {
        return fail_expecting("authority", p);
      }
    }
    // The path runs to the first '?' or '#', the query to the first '#'. Neither delimiter is in
    // its component's class (and no escape or UTF-8 sequence can hold one), so one class scan
    // finds both the end and the first illegal character: a component is valid iff the scan
    // stops at its delimiter or the end.
    std::size_t q = 0;
    if (!check_component<kPath>(p, "?#", "path", q)) return false;
    parts_->path = s_.substr(p, q - p);
    p = q;
    if (at(p, '?')) {
      ++p;
      if (!check_component<kUric>(p, "#", "query", q)) return false;
      parts_->query = s_.substr(p, q - p);
      p = q;
    }
    out = p;
    return true;
  }

  // Authorities this thread's parsers accepted and what parse_authority found in each (the host as
  // an offset into the authority): a site's own hosts and its usual referrers are a handful.
  // parse_authority's result depends on the authority's text alone, so an equal text gets the
  // same parts without the character-class passes. Direct-mapped: an authority can only be in the
  // entry its hash selects (one compare per lookup); a new one replaces what was there.
  struct AuthorityEntry {
    std::string text;
    bool valid = false;
    bool has_host = false;
    std::size_t host_offset = 0, host_length = 0;
    int port = -1;
  };
  struct AuthorityMemo {
    static constexpr int kBits = 4;
    AuthorityEntry entries[std::size_t{1} << kBits];
  };
  static AuthorityMemo& authority_memo() {
    thread_local AuthorityMemo memo;
    return memo;
  }
  static constexpr std::size_t kMaxMemoAuthority = 256;
  // The entry for a non-empty authority text: its length and first, middle and last bytes mixed.
  static std::size_t memo_slot(std::string_view text) {
    const auto byte = [&](std::size_t i) { return uint64_t{static_cast<unsigned char>(text[i])}; };
    const uint64_t h =
        text.size() | byte(0) << 8 | byte(text.size() / 2) << 16 | byte(text.size() - 1) << 24;
    return static_cast<std::size_t>((h * 0x9E3779B97F4A7C15ULL) >> (64 - AuthorityMemo::kBits));
  }

  // parse_authority through the memo. Called once per parse, with the parts' host and port still
  // unset (parse resets them), for a non-empty authority.
  bool parse_authority(std::size_t start, std::size_t end) {
    const std::string_view text = s_.substr(start, end - start);
    AuthorityEntry& e = authority_memo().entries[memo_slot(text)];
    if (e.valid && text == e.text) {
      if (e.has_host) parts_->host = text.substr(e.host_offset, e.host_length);
      parts_->port = e.port;
      return true;
    }
    if (!parse_authority_text(start, end)) return false;
    if (text.size() <= kMaxMemoAuthority) {
      e.text.assign(text);
      e.has_host = parts_->host.has_value();
      if (e.has_host) {
        e.host_offset = static_cast<std::size_t>(parts_->host->data() - text.data());
        e.host_length = parts_->host->size();
      }
      e.port = parts_->port;
      e.valid = true;
    }
    return true;
  }

  bool parse_authority_text(std::size_t start, std::size_t end) {
    bool server_chars;
    if (scan_until(start, end, "", "]") < end) {
      // An IPv6 literal: '%' may introduce a scope id, so escapes are not checked here.
      std::size_t p = start;
      while (p < end && (in_class(static_cast<unsigned char>(s_[p]), kServer) || s_[p] == '%')) ++p;
      server_chars = p == end;
    } else {
      server_chars = scan_mask(start, end, kServer) == end;
    }
    const bool reg_chars = scan_mask(start, end, kRegName) == end;
    if (reg_chars && !server_chars) return true;  // registry-based: no host, no port
    std::string server_error;
    if (server_chars) {
      std::string* saved = error_;
      error_ = &server_error;
      const bool ok = parse_server(start, end);
      error_ = saved;
      if (ok) return true;
      parts_->host.reset();
      parts_->port = -1;
    }
    if (reg_chars) return true;
    if (!server_error.empty()) {
      *error_ = server_error;
      return false;
    }
    return fail("Illegal character in authority", scan_mask(start, end, kServer));
  }

  bool parse_server(std::size_t start, std::size_t end) {
    std::size_t p = start;
    std::size_t q = scan_until(p, end, "/?#", "@");
    if (q != kNone && q < end && s_[q] == '@') {
      if (!check_chars(p, q, kUserinfo, "user info")) return false;
      p = q + 1;
    }
    if (p < end && s_[p] == '[') {
      ++p;
      q = scan_until(p, end, "/?#", "]");
      if (q == kNone || q <= p || q >= end || s_[q] != ']')
        return fail_expecting("closing bracket for IPv6 address", q == kNone ? p : q);
      const std::size_t r = scan_until(p, q, "", "%");
      const std::string addr(s_.substr(p, r - p));
      in6_addr tmp{};
      if (inet_pton(AF_INET6, addr.c_str(), &tmp) != 1) return fail("Malformed IPv6 address", p);
      if (r < q) {
        if (r + 1 == q) return fail("scope id expected", r);
        std::size_t x = r + 1;
        while (x < q && in_class(static_cast<unsigned char>(s_[x]), kScopeId)) ++x;
        if (x < q) return fail("Illegal character in scope id", x);
      }
      parts_->host = s_.substr(p - 1, q + 2 - p);
      p = q + 1;
    } else {
      std::size_t h = parse_ipv4(p, end);
      if (h == kNone || h <= p) {
        if (!parse_hostname(p, end, h)) return false;
      }
      parts_->host = s_.substr(p, h - p);
      p = h;
    }
    if (p < end && s_[p] == ':') {
      ++p;
      q = scan_until(p, end, "", "/");
      if (q > p) {
        int port = 0;
        for (std::size_t i = p; i < q; ++i) {
          if (!in_class(static_cast<unsigned char>(s_[i]), kDigit))
            return fail("Illegal character in port number", i);
          if (port > 214748364 || (port == 214748364 && s_[i] > '7'))
            return fail("Malformed port number", p);
          port = port * 10 + (s_[i] - '0');
        }
        parts_->port = port;
        p = q;
      }
    }
    if (p < end) return fail_expecting("port number", p);
    return true;
  }

  // One IPv4 byte: 1-3 digits, at most 255. Returns the index after it, or kNone when malformed.
  std::size_t scan_byte(std::size_t p, std::size_t end) const {
    std::size_t q = p;
    int v = 0;
    while (q < end && q - p < 3 && s_[q] >= '0' && s_[q] <= '9') v = v * 10 + (s_[q++] - '0');
    if (q == p) return p;
    if (v > 255) return kNone;
    return q;
  }

  std::size_t parse_ipv4(std::size_t start, std::size_t end) const {
    std::size_t m = start;
    while (m < end && ((s_[m] >= '0' && s_[m] <= '9') || s_[m] == '.')) ++m;
    if (m <= start) return kNone;
    std::size_t p = start;
    for (int part = 0; part < 4; ++part) {
      const std::size_t q = scan_byte(p, m);
      if (q == kNone || q <= p) return kNone;
      p = q;
      if (part < 3) {
        if (p >= m || s_[p] != '.') return kNone;
        ++p;
      }
    }
    if (p < m) return kNone;
    if (p < end && s_[p] != ':') return kNone;
    return p;
  }

  bool parse_hostname(std::size_t start, std::size_t end, std::size_t& out) {
    std::size_t p = start;
    std::size_t last_label = kNone;
    while (p < end) {
      std::size_t q = p;
      while (q < end && in_class(static_cast<unsigned char>(s_[q]), kAlphanum)) ++q;
      if (q <= p) break;
      last_label = p;
      p = q;
      while (q < end && in_class(static_cast<unsigned char>(s_[q]), kAlphanum | kDash)) ++q;
      if (q > p) {
        if (s_[q - 1] == '-') return fail("Illegal character in hostname", q - 1);
        p = q;
      }
      if (p < end && s_[p] == '.') {
        ++p;
      } else {
        break;
      }
    }
    if (p < end && s_[p] != ':') return fail("Illegal character in hostname", p);
    if (last_label == kNone) return fail_expecting("hostname", start);
    if (last_label > start && !in_class(static_cast<unsigned char>(s_[last_label]), kAlpha)) {
      return fail("Illegal character in hostname", last_label);
    }
    out = p;
    return true;
  }

  bool fail(const std::string& reason, std::size_t index) {
    *error_ = reason + " at index " + std::to_string(index) + ": " + std::string(s_);
    return false;
  }
  bool fail_expecting(const std::string& what, std::size_t index) {
    return fail("Expected " + what, index);
  }

  std::string_view s_;
  std::size_t n_;
  UriParts* parts_ = nullptr;
  std::string* error_ = nullptr;
  std::size_t malformed_at_ = kNone;
};

void percent_encode_byte(unsigned char c, std::string& out) {
  static constexpr char kHexDigits[] = "0123456789ABCDEF";
  out.push_back('%');
  out.push_back(kHexDigits[c >> 4]);
  out.push_back(kHexDigits[c & 0xF]);
}

// The lenient fallback: keep what a URI may hold, encode the rest (spec 4.3).
void lenient_encode(std::string_view in, std::string& out) {
  out.clear();
  bool seen_hash = false;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const auto c = static_cast<unsigned char>(in[i]);
    if (c == '%') {
      if (i + 2 < in.size() && is_hex(in[i + 1]) && is_hex(in[i + 2])) {
        out.push_back('%');
      } else {
        out += "%25";
      }
    } else if (c == '#') {
      if (seen_hash) {
        out += "%23";
      } else {
        seen_hash = true;
        out.push_back('#');
      }
    } else if (in_class(c, kReserved | kUnreserved)) {
      out.push_back(static_cast<char>(c));
    } else {
      percent_encode_byte(c, out);
    }
  }
}

}  // namespace

void form_decode(std::string_view in, std::string& out) {
  const std::size_t start = out.size();
  bool ascii = true;
  for (std::size_t i = 0; i < in.size(); ++i) {
    const char c = in[i];
    if (c == '+') {
      out.push_back(' ');
    } else if (c == '%' && i + 2 < in.size() && is_hex(in[i + 1]) && is_hex(in[i + 2])) {
      const char b = static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      if (static_cast<unsigned char>(b) >= 0x80) ascii = false;
      out.push_back(b);
      i += 2;
    } else {
      if (static_cast<unsigned char>(c) >= 0x80) ascii = false;
      out.push_back(c);
    }
  }
  if (!ascii) {
    std::string fixed;
    if (!utf8_sanitize(std::string_view(out).substr(start), fixed)) {
      out.resize(start);
      out += fixed;
    }
  }
}

bool utf8_sanitize(std::string_view in, std::string& out) {
  std::size_t p = 0;
  bool valid = true;
  while (p < in.size()) {
    if (static_cast<unsigned char>(in[p]) < 0x80) {
      ++p;
      continue;
    }
    uint32_t cp = 0;
    const std::size_t len = utf8_at(in, p, cp);
    if (cp == 0xFFFD && len == 1) {
      valid = false;
      break;
    }
    p += len;
  }
  if (valid) return true;
  out.assign(in.substr(0, p));
  while (p < in.size()) {
    uint32_t cp = 0;
    const std::size_t len = utf8_at(in, p, cp);
    if (cp == 0xFFFD && len == 1 && static_cast<unsigned char>(in[p]) >= 0x80) {
      out += "\xEF\xBF\xBD";
    } else {
      out.append(in.substr(p, len));
    }
    p += len;
  }
  return false;
}

namespace {

bool query_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}
std::string_view query_trim(std::string_view s) {
  while (!s.empty() && query_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && query_blank(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

bool find_last_query_value(std::string_view query, std::string_view name,
                           std::optional<std::string>& value) {
  // Without any '%', a name decodes to itself with '+' as a space (or, for invalid UTF-8, to
  // text holding U+FFFD): a plain ASCII `name` without spaces must then appear literally.
  bool plain_name = true;
  for (char c : name) plain_name &= static_cast<unsigned char>(c) < 0x80 && c != ' ';
  if (plain_name && query.find('%') == std::string_view::npos &&
      query.find(name) == std::string_view::npos) {
    return false;
  }
  bool found = false;
  std::string decoded;
  const std::size_t n = query.size();
  std::size_t start = 0;
  while (start <= n) {
    // The pair [start, end) up to '&' or ';', its '=' (eq) and whether its name part holds a
    // byte that decoding changes ('%' or '+').
    std::size_t end = start, eq = std::string_view::npos;
    bool escaped = false;
    for (; end < n && query[end] != '&' && query[end] != ';'; ++end) {
      const char c = query[end];
      if (c == '=' && eq == std::string_view::npos) eq = end - start;
      if ((c == '%' || c == '+') && eq == std::string_view::npos) escaped = true;
    }
    const std::string_view pair = query.substr(start, end - start);
    const std::string_view raw_name = query_trim(pair.substr(0, eq));
    bool match;
    if (!escaped) {
      // Decodes to itself, or (invalid UTF-8) to text holding U+FFFD, which is not `name`.
      match = !raw_name.empty() && raw_name == name;
    } else {
      decoded.clear();
      form_decode(raw_name, decoded);
      match = decoded == name;
    }
    if (match) {
      found = true;
      if (eq == std::string_view::npos) {
        value.reset();
      } else {
        value.emplace();
        form_decode(query_trim(pair.substr(eq + 1)), *value);
      }
    }
    start = end + 1;
  }
  return found;
}

void parse_query(std::string_view query, QueryPairs& out) {
  const auto trim = query_trim;
  std::size_t start = 0;
  while (start <= query.size()) {
    std::size_t end = query.find_first_of("&;", start);
    if (end == std::string_view::npos) end = query.size();
    const std::string_view pair = query.substr(start, end - start);
    const std::size_t eq = pair.find('=');
    const std::string_view name = trim(pair.substr(0, eq));
    if (!name.empty()) {
      std::string decoded_name;
      form_decode(name, decoded_name);
      std::optional<std::string> value;
      if (eq != std::string_view::npos) {
        value.emplace();
        form_decode(trim(pair.substr(eq + 1)), *value);
      }
      out.emplace_back(std::move(decoded_name), std::move(value));
    }
    start = end + 1;
  }
}

namespace {

// UriParser::parse with the parser JavaUriParser<kBlocks>; `text` and `scratch` are its buffers.
template <bool kBlocks>
bool parse_uri(std::string_view input, UriParts& parts, std::string& error, std::string& text,
               std::string& scratch) {
  // Spaces become %20: the runs between them are copied whole (most URLs have none).
  text.clear();
  for (std::size_t start = 0;;) {
    const std::size_t space = input.find(' ', start);
    if (space == std::string_view::npos) {
      text.append(input.substr(start));
      break;
    }
    text.append(input.substr(start, space - start));
    text += "%20";
    start = space + 1;
  }
  std::string first_error;
  {
    JavaUriParser<kBlocks> p(text);
    if (p.parse(parts, first_error)) return true;
  }
  lenient_encode(input, scratch);
  text.swap(scratch);
  std::string second_error;
  JavaUriParser<kBlocks> p(text);
  if (p.parse(parts, second_error)) return true;
  parts = UriParts{};
  error = first_error;
  return false;
}

}  // namespace

bool UriParser::parse(std::string_view input, UriParts& parts, std::string& error) {
  return parse_uri<true>(input, parts, error, text_, scratch_);
}

namespace detail {
bool parse_uri_bytewise(std::string_view input, UriParts& parts, std::string& normalized,
                        std::string& error) {
  std::string scratch;
  return parse_uri<false>(input, parts, error, normalized, scratch);
}
}  // namespace detail

int effective_port(const UriParts& parts) {
  if (parts.port != -1) return parts.port;
  return parts.scheme && *parts.scheme == "https" ? 443 : 80;
}

}  // namespace furrow
