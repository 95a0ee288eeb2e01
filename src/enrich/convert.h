// The tracker-protocol value conversions of spec 1.3 (Snowplow's Transform.scala). Each writes
// the TSV text of the converted value into `out` (empty = null) and returns true, or returns false
// and sets `error` to the message that goes into the atomic_field_parse_error report. None
// throws or allocates beyond growing `out`/`error`.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace furrow::enrich {

// tsv-safe string: '\t' -> 4 spaces, ASCII control characters (incl. CR/LF, DEL) removed. An
// empty result is null. Never fails.
void tsv_safe(std::string_view in, std::string& out);
// True when tsv_safe would give `in` back unchanged (no byte below 0x20, no DEL), so that the value
// can be taken as it is.
bool tsv_clean(std::string_view in);
// tsv_clean(in), with values of 1-16 bytes checked inline by one 16-byte load when it stays inside
// their 4 KiB page (it cannot fault; the bytes after the value are masked off): for such values
// the call is most of the cost. (ASan builds call tsv_clean: the load may read past the value.)
[[gnu::always_inline]] inline bool tsv_clean_inline(std::string_view in) {
#if defined(__SSE2__) && !defined(__SANITIZE_ADDRESS__)
  const std::size_t n = in.size();
  if (n - 1 < 16 && (reinterpret_cast<uintptr_t>(in.data()) & 4095) <= 4096 - 16) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(in.data()));
    // x <= 0x1F unsigned exactly when min(x, 0x1F) == x; or DEL.
    const __m128i low = _mm_cmpeq_epi8(_mm_min_epu8(x, _mm_set1_epi8(0x1F)), x);
    const __m128i del = _mm_cmpeq_epi8(x, _mm_set1_epi8(0x7F));
    const unsigned m = static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(low, del)));
    return (m & ((1u << n) - 1)) == 0;
  }
#endif
  return tsv_clean(in);
}

// Java Integer.parseInt; "null" in any case -> null.
bool convert_int(std::string_view in, std::string& out, std::string& error);
// java.math.BigDecimal, negative scale normalised, toString; "null" in any case -> null.
bool convert_decimal(std::string_view in, std::string& out, std::string& error);
// Exactly "1" or "0".
bool convert_bool01(std::string_view in, std::string& out, std::string& error);
// (\d+)x(\d+), both parts Java ints.
bool convert_wxh(std::string_view in, std::string& width, std::string& height, std::string& error);

// The cases where a conversion gives its input back, so that the pipeline can take the tracker's
// text as the column's value (a view, no copy). Each is exact for the inputs it accepts and may
// decline inputs whose conversion would also be unchanged (the caller then converts).
// convert_int gives `in` back: "0", or an optional '-' and 1-9 digits not starting with '0'.
bool java_int_unchanged(std::string_view in);
// convert_wxh accepts `in` and gives its two parts back unchanged (each "0" or 1-9 digits not
// starting with '0'): `width` and `height` view them.
bool wxh_unchanged(std::string_view in, std::string_view& width, std::string_view& height);
// convert_uuid gives `in` back: the 8-4-4-4-12 form in lower-case hexadecimal (exact).
bool uuid_unchanged(std::string_view in);
// A canonical UUID (any case), stored lower-case.
bool convert_uuid(std::string_view in, std::string& out, std::string& error);
// Milliseconds since the epoch (Java Long.parseLong) formatted `yyyy-MM-dd HH:mm:ss.SSS`; the year
// must be 0..9999.
bool convert_tstamp(std::string_view in, std::string& out, std::string& error);
// The same, also giving the parsed milliseconds (set when it returns true).
bool convert_tstamp(std::string_view in, std::string& out, std::string& error, int64_t& ms);
// The same for an already numeric time (collector_tstamp).
bool format_checked_tstamp(int64_t ms, std::string& out, std::string& error);
// Parses a Java long; false when not one.
bool parse_java_long(std::string_view in, int64_t& out);

// `e` -> event column (pv -> page_view, ...); false for anything else ("Not a valid event type").
bool convert_event_type(std::string_view in, std::string& out, std::string& error);
// `p` -> platform; one of web mob pc srv app tv cnsl iot headset ("Not a valid platform").
bool convert_platform(std::string_view in, std::string& out, std::string& error);
// The name convert_event_type gives `in` (a static string); false when it is no event type.
bool event_type_name(std::string_view in, std::string_view& name);
// True when `in` is one of the platforms convert_platform accepts (it gives `in` back).
bool is_platform(std::string_view in);
// The first token of `in` after splitting on ',', '|' or whitespace (convert_ip before tsv_safe).
std::string_view ip_token(std::string_view in);
// `ip`: the first token after splitting on ',', '|' or whitespace, tsv-safe. Never fails.
void convert_ip(std::string_view in, std::string& out);

// UTF-16 length of UTF-8 text, as Java's String.length() counts (for the length limits).
std::size_t java_length(std::string_view utf8);

}  // namespace furrow::enrich
