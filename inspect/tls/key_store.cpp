// The bounded, expiring escrowed-key store (open addressing keyed by the ClientHello random).
#include "inspect/tls/key_store.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <new>

namespace dc::inspect::tls {

int KeySet::slot_of(KeyLabel l) noexcept {
  switch (l) {
    case KeyLabel::kClientRandom:
      return 0;
    case KeyLabel::kClientHandshakeTraffic:
      return 1;
    case KeyLabel::kServerHandshakeTraffic:
      return 2;
    case KeyLabel::kClientTraffic0:
      return 3;
    case KeyLabel::kServerTraffic0:
      return 4;
    default:
      return -1;
  }
}

bool KeySet::has(KeyLabel l) const noexcept {
  const int s = slot_of(l);
  return s >= 0 && (present >> s & 1) != 0;
}

const KeySet::Secret* KeySet::get(KeyLabel l) const noexcept {
  return has(l) ? &secrets[std::size_t(slot_of(l))] : nullptr;
}

void KeySet::wipe() noexcept { OPENSSL_cleanse(this, sizeof(*this)); }

const char* key_store_status_name(KeyStoreStatus s) noexcept {
  switch (s) {
    case KeyStoreStatus::kStored:
      return "stored";
    case KeyStoreStatus::kMerged:
      return "merged";
    case KeyStoreStatus::kIgnored:
      return "ignored";
    case KeyStoreStatus::kFull:
      return "full";
  }
  return "?";
}

Result<std::unique_ptr<KeyStore>> KeyStore::create(std::size_t capacity, uint64_t ttl_ns) {
  if (capacity == 0 || capacity > (std::size_t{1} << 20)) {
    return make_error(ErrorCode::kInvalid, "key store capacity must be 1..1048576");
  }
  if (ttl_ns == 0) return make_error(ErrorCode::kInvalid, "key store ttl must be > 0");
  std::size_t slots = 2;
  while (slots < 2 * capacity) slots *= 2;  // load factor <= 1/2 keeps probes short
  std::unique_ptr<KeyStore> s(new (std::nothrow) KeyStore(capacity, slots, ttl_ns));
  if (!s || !s->table_ || !s->used_) {
    return make_error(ErrorCode::kUnavailable, "key store: out of memory");
  }
  return s;
}

KeyStore::KeyStore(std::size_t capacity, std::size_t slots, uint64_t ttl_ns)
    : table_(new (std::nothrow) KeySet[slots]),
      used_(new (std::nothrow) bool[slots]()),
      capacity_(capacity),
      slots_(slots),
      ttl_ns_(ttl_ns) {}

KeyStore::~KeyStore() {
  if (table_) OPENSSL_cleanse(table_.get(), sizeof(KeySet) * slots_);
}

// Client randoms are 32 random bytes chosen by the exporter's TLS stack, whose keys only reach
// the store through the key intake (an authorised writer); the first 8 bytes are a good hash.
std::size_t KeyStore::home(const ClientRandom& r) const noexcept {
  uint64_t h;
  std::memcpy(&h, r.data(), sizeof h);
  h ^= h >> 29;
  h *= 0xbf58476d1ce4e5b9ULL;
  return std::size_t(h ^ (h >> 32)) & (slots_ - 1);
}

std::size_t KeyStore::find(const ClientRandom& r) const noexcept {
  for (std::size_t i = home(r);; i = (i + 1) & (slots_ - 1)) {
    if (!used_[i]) return slots_;
    if (table_[i].client_random == r) return i;
  }
}

KeyStoreStatus KeyStore::insert(const KeyLogEntry& e, uint64_t now_ns) noexcept {
  const int s = KeySet::slot_of(e.label);
  if (s < 0) {
    ++counters_.ignored;
    return KeyStoreStatus::kIgnored;
  }
  std::size_t i = find(e.client_random);
  KeyStoreStatus st = KeyStoreStatus::kMerged;
  if (i == slots_) {
    if (size_ >= capacity_ && expire(now_ns) == 0) {
      ++counters_.full;
      return KeyStoreStatus::kFull;
    }
    i = home(e.client_random);
    while (used_[i]) i = (i + 1) & (slots_ - 1);
    used_[i] = true;
    ++size_;
    table_[i].client_random = e.client_random;
    st = KeyStoreStatus::kStored;
  }
  KeySet& k = table_[i];
  KeySet::Secret& sec = k.secrets[std::size_t(s)];
  sec.bytes = e.secret;
  sec.len = e.secret_len;
  sec.line_hash = e.line_hash;
  k.present |= uint8_t(1u << s);
  k.expires_ns = now_ns + ttl_ns_;
  ++(st == KeyStoreStatus::kStored ? counters_.stored : counters_.merged);
  return st;
}

const KeySet* KeyStore::lookup(const ClientRandom& r, uint64_t now_ns) const noexcept {
  const std::size_t i = find(r);
  if (i == slots_ || table_[i].expires_ns <= now_ns) return nullptr;
  return &table_[i];
}

// Backward-shift deletion (Knuth 6.4 algorithm R): later entries of the probe run move up so
// lookups never need tombstones.
void KeyStore::remove_at(std::size_t i) noexcept {
  table_[i].wipe();
  used_[i] = false;
  --size_;
  for (std::size_t j = (i + 1) & (slots_ - 1); used_[j]; j = (j + 1) & (slots_ - 1)) {
    const std::size_t h = home(table_[j].client_random);
    // Move j into the hole i if its home is not cyclically in (i, j].
    const bool in_range = i <= j ? (i < h && h <= j) : (i < h || h <= j);
    if (in_range) continue;
    std::memcpy(static_cast<void*>(&table_[i]), &table_[j], sizeof(KeySet));
    used_[i] = true;
    table_[j].wipe();
    used_[j] = false;
    i = j;
  }
}

bool KeyStore::erase(const ClientRandom& r) noexcept {
  const std::size_t i = find(r);
  if (i == slots_) return false;
  remove_at(i);
  ++counters_.erased;
  return true;
}

std::size_t KeyStore::expire(uint64_t now_ns) noexcept {
  std::size_t n = 0;
  for (std::size_t i = 0; i < slots_;) {
    if (used_[i] && table_[i].expires_ns <= now_ns) {
      remove_at(i);  // may move a later entry into i: look at i again
      ++n;
    } else {
      ++i;
    }
  }
  counters_.expired += n;
  return n;
}

}  // namespace dc::inspect::tls
