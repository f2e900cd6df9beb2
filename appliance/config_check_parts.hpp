#pragma once
// Internals of `config check` (appliance/config_check.hpp): the context every group of checks
// reports through, and the groups (files and keys, EAL and machine, policy), one source each.
#include <string>
#include <vector>

#include "appliance/config.hpp"
#include "appliance/config_check.hpp"

namespace dc::policy {
class Snapshot;
}

namespace dc::appliance::check {

class Context {
 public:
  Context(const ApplianceConfig& cfg, const CheckOptions& opt, std::vector<Diagnostic>& out)
      : cfg(cfg), opt(opt), out_(out) {}

  // A problem at the key `key` ("audit.signing_key"; its table, or the file, when not written).
  void error(const std::string& key, std::string msg, std::string hint = {});
  void warning(const std::string& key, std::string msg, std::string hint = {});
  // `${config_dir}` and `${out_dir}` expanded, as `run` does.
  std::string expand(const std::string& s) const;
  // A path as printed: relative to the working directory when below it (stable, short).
  static std::string display(const std::string& path);
  // The EAL arguments `run` would pass after its own: [eal] args, then --eal.
  std::vector<std::string> eal_args() const;

  const ApplianceConfig& cfg;
  const CheckOptions& opt;

 private:
  void add(bool error, const std::string& key, std::string msg, std::string hint);
  std::vector<Diagnostic>& out_;
};

// config_check_files.cpp
void audit_files(Context& c);  // [audit] dir, signing_key, hmac_key_file, witness file
void tls_socket(Context& c);   // [tls] key_socket's directory
void metrics(Context& c);      // [metrics] listen exposure, auth_file
// config_check_machine.cpp
void eal_args(Context& c);  // unknown options, --help, options the appliance sets itself
void cores(Context& c);     // main and worker lcores vs the CPUs this process may use
void memory(Context& c);    // mbufs, flows and audit pools vs -m / hugepages
void devices(Context& c);   // PCI addresses vs --no-pci and the machine; vdev files/interfaces
// config_check_accounting.cpp
void accounting_store(Context& c);  // [accounting] state_dir writable, redis address
// config_check.cpp
void port_zones(Context& c, const policy::Snapshot& snap);

}  // namespace dc::appliance::check
