// The draft-04 meta-schema, built in (see draft4_metaschema.cpp).
#pragma once

#include <string_view>

namespace furrow::iglu {

// Its URI without the trailing '#'.
extern const std::string_view kDraft4MetaschemaUri;
extern const std::string_view kDraft4Metaschema;

}  // namespace furrow::iglu
