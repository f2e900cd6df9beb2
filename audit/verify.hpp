#pragma once
// The audit log verifier: re-reads a log directory and reports, with file and line, every way in
// which it differs from what the writer produced (docs/audit-format.md, "Verifier findings").
// Threads: any thread; reads files only. Used by `datacustoms audit verify` and by tests.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "audit/crypto.hpp"
#include "base/result.hpp"

namespace dc::audit {

enum class FindingKind {
  kMalformed,           // a line that is not a JSON record with seq/prev/type
  kTruncatedLine,       // a final line without '\n' (cut mid-record)
  kModified,            // the next record does not chain from this one's bytes
  kGenesis,             // record 1 does not chain from the genesis value
  kDeleted,             // seqs missing inside a file
  kFileMissing,         // seqs missing at a file boundary, or a rotation's next file is absent
  kReordered,           // a record appears after a higher seq
  kDuplicated,          // a seq appears twice
  kReplayedCheckpoint,  // a byte-identical copy of an earlier (valid) checkpoint
  kBadSignature,        // a checkpoint whose signature does not verify under the given key
  kUnsealedTail,        // records after the last valid checkpoint, or no closing checkpoint
  kEvidenceMissing,     // a flow record's evidence file is absent or outside the log directory
  kEvidenceMismatch,    // a flow record's evidence file does not match its SHA-256 (or is not
                        // a regular file)
  kBadFile,             // a log file that is not a regular file (symlink, device) or too large
  kEmptyFile,           // a log file with no bytes (the writer never leaves one)
  kFileName,            // a file whose name does not bind its first record's seq
  kUncleanRun,          // a run (start record) that ended without its stop record
  kWitnessInvalid,      // a witness entry that is not a checkpoint signed by the given key
  kWitnessMismatch,     // the log lacks a witnessed checkpoint (record absent or different)
  kCutBack,             // the log ends before the latest witnessed checkpoint
};
std::string_view finding_kind_name(FindingKind k);

enum class Severity { kWarning, kError };

struct Finding {
  Severity severity = Severity::kError;
  FindingKind kind = FindingKind::kMalformed;
  std::string file;        // log file name (relative to the log directory)
  std::uint64_t line = 0;  // 1-based line in `file`
  std::uint64_t seq = 0;   // the record the finding is about (0: unknown)
  std::string message;
};
// "audit-000000000001.jsonl:17: error: record 1042 modified (hash chain broken ...)"
std::string format_finding(const Finding& f);

struct VerifyOptions {
  std::string dir;
  // A log that is still being written has records after its last checkpoint. With this set, that
  // tail is a warning (exit 0); without it (the default, for a log after a clean stop) an error.
  bool allow_unsealed_tail = false;
  bool check_evidence = true;
  // When set, the public key's id must equal it (a key pinned out of band): a swapped key file
  // is refused instead of verifying a re-signed log.
  std::string expect_key_id;
  // Witnesses to hold the log against (audit/witness_read.hpp: "file:PATH", "redis:HOST:PORT/KEY").
  // Each is read before the log, so a live log always contains what its witness holds.
  std::vector<std::string> witnesses = {};
};

struct VerifyReport {
  std::vector<Finding> findings;  // in log order
  std::uint64_t files = 0;
  std::uint64_t records = 0;
  std::uint64_t flows = 0;
  std::uint64_t checkpoints = 0;  // with a valid signature
  std::uint64_t last_seq = 0;
  std::uint64_t sealed_through = 0;  // highest seq covered by a valid checkpoint
  std::uint64_t evidence_checked = 0;
  std::uint64_t findings_omitted = 0;  // findings past the report's cap (counted, not listed)
  std::uint64_t witnessed = 0;         // witnessed checkpoints read (valid signatures)
  std::string key_id;                  // id of the public key the checkpoints were checked with

  bool intact() const;  // no error findings
  int exit_code() const { return intact() ? 0 : 1; }
  nlohmann::ordered_json to_json() const;
};

// Streams the log: memory grows with the number of anomalies (gaps, reorderings), not with the
// log's size. Log files and evidence are opened without following symlinks and with size caps.
// An error result means the log could not be read at all (missing directory, no log files, I/O,
// a key that is not the expected one): exit code 2. Tampering is reported in the VerifyReport (exit
// code 1).
Result<VerifyReport> verify_log(const VerifyOptions& options, const VerifyKey& key);

}  // namespace dc::audit
