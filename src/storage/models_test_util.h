// Test helpers shared by the model tests (src/storage and src/run): a QueryStore's model rows as
// text, for comparing two databases column for column. Include from *_test.cpp files only.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <vector>

#include "storage/query_store.h"

namespace furrow::storage::test_util {

// Every column of every page_views, sessions and users row in a fixed order, one line per row
// ("<null>" for NULL); with `with_state`, also the models' running state (model_session_state,
// model_pv_events).
inline std::string model_rows(QueryStore& s, bool with_state = false) {
  std::vector<const char*> sqls = {"SELECT * FROM page_views ORDER BY page_view_id, event_id",
                                   "SELECT * FROM sessions ORDER BY domain_sessionid",
                                   "SELECT * FROM users ORDER BY domain_userid"};
  if (with_state) {
    sqls.push_back("SELECT * FROM model_session_state ORDER BY domain_sessionid");
    sqls.push_back("SELECT * FROM model_pv_events ORDER BY domain_sessionid, event_id, fp, cts");
  }
  std::string out;
  for (const char* sql : sqls) {
    Status st = s.query(sql, {}, RowHandler{nullptr, [&](const std::vector<Cell>& r) {
                                              for (const Cell& c : r) {
                                                out += c.null ? std::string_view("<null>") : c.text;
                                                out += '\t';
                                              }
                                              out += '\n';
                                              return true;
                                            }});
    EXPECT_TRUE(st.ok()) << sql << ": " << st.message();
  }
  return out;
}

}  // namespace furrow::storage::test_util
