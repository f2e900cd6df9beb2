#pragma once
// `declare submit` and `declare revoke` on the appliance side (telemetry commands
// /datacustoms/declare_submit,PATH and /datacustoms/declare_revoke,ID): checks a submitted
// declaration against the live policy file, stores it in the policy's declarations directory or
// appends an id to its revocation list, then reloads like `ctl reload` so the change is live.
// Runs on a telemetry thread; the reload itself runs on the control thread (`reload`).
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "appliance/reloader.hpp"

namespace dc::appliance {

struct DeclareReply {
  bool accepted = false;
  std::string id;
  std::string file;                 // where the declaration is stored (submit)
  std::vector<std::string> errors;  // every problem ("file:line:col: error: ..."), when refused
  ReloadResult reload;              // the reload that made it live (when one ran)
};

// `decl_path` is read by the appliance (an absolute path on its host). Refused: any check error,
// an expired declaration, or another file of the directory with the same id. Stored as
// <dir>/<id>.toml (replacing an earlier submission of that id); removed again when the reload is
// rejected.
DeclareReply submit_declaration(const std::string& policy_path, const std::string& decl_path,
                                int64_t now_ns, const std::function<ReloadResult()>& reload);
// Appends `id` to <dir>/revoked.list and reloads.
DeclareReply revoke_declaration(const std::string& policy_path, const std::string& id,
                                int64_t now_ns, const std::function<ReloadResult()>& reload);

}  // namespace dc::appliance
