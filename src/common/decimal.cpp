#include "common/decimal.h"

#include <cstdint>
#include <string>

namespace furrow {
namespace {
constexpr std::size_t kMaxDigits = 1000;
bool digit(char c) {
  return c >= '0' && c <= '9';
}
}  // namespace

bool java_decimal(std::string_view in, std::string& out, std::string& error) {
  std::size_t i = 0;
  bool negative = false;
  if (i < in.size() && (in[i] == '+' || in[i] == '-')) negative = in[i++] == '-';
  std::string coeff;  // significand digits, leading zeros stripped later
  int64_t scale = 0;
  bool any_digit = false;
  bool seen_point = false;
  for (; i < in.size(); ++i) {
    const char c = in[i];
    if (digit(c)) {
      any_digit = true;
      coeff.push_back(c);
      if (seen_point) ++scale;
      if (coeff.size() > kMaxDigits) {
        error = "Too many digits";
        return false;
      }
    } else if (c == '.') {
      if (seen_point) {
        error = "Character array contains more than one decimal point.";
        return false;
      }
      seen_point = true;
    } else if (c == 'e' || c == 'E') {
      break;
    } else {
      error = "Character ";
      error += c;
      error +=
          " is neither a decimal digit number, decimal point, nor \"e\" notation exponential mark.";
      return false;
    }
  }
  if (!any_digit) {
    error = "No digits found.";
    return false;
  }
  if (i < in.size()) {  // exponent
    ++i;
    bool exp_negative = false;
    if (i < in.size() && (in[i] == '+' || in[i] == '-')) exp_negative = in[i++] == '-';
    if (i >= in.size()) {
      error = "No exponent digits.";
      return false;
    }
    int64_t exp = 0;
    for (; i < in.size(); ++i) {
      if (!digit(in[i])) {
        error = "Exponent contains a non-digit character.";
        return false;
      }
      exp = exp * 10 + (in[i] - '0');
      if (exp > 1'000'000'000) {
        error = "Exponent overflow.";
        return false;
      }
    }
    scale -= exp_negative ? -exp : exp;
  }
  // Strip leading zeros of the unscaled value (BigInteger).
  std::size_t nz = coeff.find_first_not_of('0');
  coeff = nz == std::string::npos ? std::string("0") : coeff.substr(nz);
  const bool zero = coeff == "0";
  if (scale < 0) {  // setScale(0): multiply the unscaled value by 10^-scale
    if (!zero) {
      if (static_cast<int64_t>(coeff.size()) - scale > static_cast<int64_t>(kMaxDigits)) {
        error = "Value too large";
        return false;
      }
      coeff.append(static_cast<std::size_t>(-scale), '0');
    }
    scale = 0;
  }
  out.clear();
  if (negative && !zero) out.push_back('-');
  const int64_t adjusted = -scale + static_cast<int64_t>(coeff.size()) - 1;
  if (scale == 0) {
    out += coeff;
  } else if (adjusted >= -6) {
    const int64_t len = static_cast<int64_t>(coeff.size());
    if (len > scale) {
      out.append(coeff, 0, static_cast<std::size_t>(len - scale));
      out.push_back('.');
      out.append(coeff, static_cast<std::size_t>(len - scale));
    } else {
      out += "0.";
      out.append(static_cast<std::size_t>(scale - len), '0');
      out += coeff;
    }
  } else {
    out.push_back(coeff[0]);
    if (coeff.size() > 1) {
      out.push_back('.');
      out.append(coeff, 1);
    }
    out.push_back('E');
    out += std::to_string(adjusted);
  }
  return true;
}

}  // namespace furrow
