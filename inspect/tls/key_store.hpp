#pragma once
// The escrowed-key store of one worker: the secrets of the key log, grouped by ClientHello random,
// bounded (capacity fixed at creation, one allocation), expiring, wiped on erase and destruction.
// Secrets are never written anywhere by this class (no logging, no files); only the SHA-256 of the
// key log line that brought each secret is exposed, for evidence.
//
// Threads: single-threaded, owned by one worker (a later step feeds it from a ring filled by the
// key intake thread). insert/lookup/erase cost O(1) expected (open addressing, linear probing with
// backward-shift deletion) and never allocate.
#include <cstddef>
#include <cstdint>
#include <memory>

#include "base/result.hpp"
#include "inspect/tls/keylog.hpp"

namespace dc::inspect::tls {

// The secrets known for one connection (one client random). `has(label)` says which are present.
struct KeySet {
  struct Secret {
    std::array<uint8_t, kMaxSecretLen> bytes{};
    uint8_t len = 0;
    LineHash line_hash{};
  };
  ClientRandom client_random{};
  std::array<Secret, 5> secrets{};  // indexed by the used labels, see slot_of()
  uint8_t present = 0;              // bit i: secrets[i] is set
  uint64_t expires_ns = 0;

  static int slot_of(KeyLabel l) noexcept;  // -1 for labels the decryptor does not use
  bool has(KeyLabel l) const noexcept;
  const Secret* get(KeyLabel l) const noexcept;
  void wipe() noexcept;  // OPENSSL_cleanse of the whole set
};

enum class KeyStoreStatus : uint8_t {
  kStored,   // a new connection entry
  kMerged,   // added to (or replaced a secret of) an existing entry
  kIgnored,  // a label the decryptor does not use (exporter, early, *_N)
  kFull,     // capacity reached and no entry has expired: the line is dropped (counted)
};
const char* key_store_status_name(KeyStoreStatus s) noexcept;

struct KeyStoreCounters {
  uint64_t stored = 0, merged = 0, ignored = 0, full = 0, expired = 0, erased = 0;
};

class KeyStore {
 public:
  // `capacity` connections (1..2^20), each kept `ttl_ns` after its last secret arrived.
  static Result<std::unique_ptr<KeyStore>> create(std::size_t capacity, uint64_t ttl_ns);
  ~KeyStore();
  KeyStore(const KeyStore&) = delete;
  KeyStore& operator=(const KeyStore&) = delete;

  // Adds one parsed key log entry at time `now_ns` (any monotonic clock the caller uses
  // consistently, e.g. the packet clock). Expired entries are reclaimed first when full.
  KeyStoreStatus insert(const KeyLogEntry& e, uint64_t now_ns) noexcept;
  // The secrets for a ClientHello random, or nullptr (absent or expired at `now_ns`). The pointer
  // is valid until the next insert/erase/expire call.
  const KeySet* lookup(const ClientRandom& r, uint64_t now_ns) const noexcept;
  // Wipes and removes the entry (flow ended, or keys installed in the flow). False if absent.
  bool erase(const ClientRandom& r) noexcept;
  // Wipes and removes every entry expired at `now_ns`; returns how many.
  std::size_t expire(uint64_t now_ns) noexcept;

  std::size_t size() const noexcept { return size_; }
  std::size_t capacity() const noexcept { return capacity_; }
  const KeyStoreCounters& counters() const noexcept { return counters_; }

 private:
  KeyStore(std::size_t capacity, std::size_t slots, uint64_t ttl_ns);
  std::size_t home(const ClientRandom& r) const noexcept;
  std::size_t find(const ClientRandom& r) const noexcept;  // slot index or slots_ when absent
  void remove_at(std::size_t i) noexcept;

  std::unique_ptr<KeySet[]> table_;
  std::unique_ptr<bool[]> used_;
  std::size_t capacity_, slots_, size_ = 0;
  uint64_t ttl_ns_;
  KeyStoreCounters counters_{};
};

}  // namespace dc::inspect::tls
