// Witness line format, the syslog witness, and the publisher thread that runs every witness off
// the audit writer's thread (audit/witness.hpp).
#include "audit/witness.hpp"

#include <syslog.h>

#include "base/hash.hpp"

namespace dc::audit {

std::string witness_line(const CheckpointInfo& c) {
  nlohmann::ordered_json j;
  j["seq"] = c.seq;
  j["hash"] = c.hash;
  j["file"] = c.file;
  j["key_id"] = c.key_id;
  j["time"] = c.time;
  j["line"] = c.line;
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Result<CheckpointInfo> parse_witness_line(std::string_view text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return make_error("not a JSON object");
  CheckpointInfo c;
  auto s = j.find("seq");
  if (s == j.end() || !s->is_number_unsigned() || s->get<std::uint64_t>() == 0)
    return make_error("missing or invalid \"seq\"");
  c.seq = s->get<std::uint64_t>();
  for (auto [key, out] :
       {std::pair{"hash", &c.hash}, std::pair{"file", &c.file}, std::pair{"key_id", &c.key_id},
        std::pair{"time", &c.time}, std::pair{"line", &c.line}}) {
    auto v = j.find(key);
    if (v == j.end() || !v->is_string())
      return make_error(std::string("missing or invalid \"") + key + "\"");
    *out = v->get<std::string>();
  }
  if (base::sha256_hex(c.line) != c.hash)
    return make_error("\"hash\" is not the SHA-256 of \"line\"");
  return c;
}

// --- syslog / journald ---------------------------------------------------------------------------

std::string syslog_witness_message(const CheckpointInfo& c) {
  return "audit checkpoint seq=" + std::to_string(c.seq) + " hash=" + c.hash +
         " key_id=" + c.key_id + " file=" + c.file + " time=" + c.time;
}

namespace {

class SyslogWitness final : public Witness {
 public:
  SyslogWitness() {
    // The ident must outlive every syslog() call: a literal. LOG_NDELAY: connect now, so a
    // later chroot or sandbox does not lose the socket.
    ::openlog("datacustoms-audit", LOG_PID | LOG_NDELAY, LOG_DAEMON);
  }
  const std::string& name() const override { return name_; }
  // syslog(3) reports no errors: a message the daemon cannot take is lost silently, which is
  // why this witness is for people reading journalctl and `audit verify` reads file and Redis.
  Result<void> publish(const CheckpointInfo& c) override {
    ::syslog(LOG_NOTICE, "%s", syslog_witness_message(c).c_str());
    return {};
  }

 private:
  std::string name_ = "syslog";
};

}  // namespace

std::unique_ptr<Witness> make_syslog_witness() { return std::make_unique<SyslogWitness>(); }

// --- publisher -----------------------------------------------------------------------------------

struct WitnessPublisher::State {
  std::vector<std::unique_ptr<Witness>> witnesses;
  std::size_t max_queue = 64;
  mutable std::mutex mu;
  std::condition_variable work_cv;  // queue not empty, or stopping
  std::condition_variable idle_cv;  // queue drained
  std::deque<CheckpointInfo> queue;
  bool busy = false;
  bool stopping = false;
  std::uint64_t skipped = 0;
  std::vector<WitnessStats> stats;
  std::mutex sink_mu;  // held while the sink runs, so stop() can detach it safely
  std::function<void(nlohmann::ordered_json)> sink;

  void run();
  void publish_one(const CheckpointInfo& c);
};

void WitnessPublisher::State::run() {
  for (;;) {
    CheckpointInfo c;
    {
      std::unique_lock<std::mutex> lock(mu);
      work_cv.wait(lock, [&] { return !queue.empty() || stopping; });
      if (queue.empty()) return;  // stopping, and everything published
      c = std::move(queue.front());
      queue.pop_front();
      busy = true;
    }
    publish_one(c);
    {
      std::lock_guard<std::mutex> lock(mu);
      busy = false;
    }
    idle_cv.notify_all();
  }
}

void WitnessPublisher::State::publish_one(const CheckpointInfo& c) {
  for (std::size_t i = 0; i < witnesses.size(); ++i) {
    auto r = witnesses[i]->publish(c);
    bool new_episode = false;
    {
      std::lock_guard<std::mutex> lock(mu);
      WitnessStats& s = stats[i];
      if (r) {
        ++s.published;
        s.healthy = true;
        continue;
      }
      ++s.failures;
      s.last_error = r.error().message;
      new_episode = s.healthy;
      if (new_episode) ++s.episodes;
      s.healthy = false;
    }
    if (!new_episode) continue;
    std::lock_guard<std::mutex> lock(sink_mu);
    if (sink)
      sink({{"witness", witnesses[i]->name()}, {"error", r.error().message}, {"seq", c.seq}});
  }
}

WitnessPublisher::WitnessPublisher(std::vector<std::unique_ptr<Witness>> witnesses,
                                   std::size_t max_queue)
    : state_(std::make_shared<State>()) {
  state_->max_queue = std::max<std::size_t>(max_queue, 1);
  for (const auto& w : witnesses) {
    state_->stats.emplace_back();
    state_->stats.back().name = w->name();
  }
  state_->witnesses = std::move(witnesses);
  thread_ = std::thread([s = state_] { s->run(); });
}

WitnessPublisher::~WitnessPublisher() { (void)stop(); }

void WitnessPublisher::set_event_sink(std::function<void(nlohmann::ordered_json)> sink) {
  std::lock_guard<std::mutex> lock(state_->sink_mu);
  state_->sink = std::move(sink);
}

void WitnessPublisher::publish(const CheckpointInfo& c) {
  {
    std::lock_guard<std::mutex> lock(state_->mu);
    if (state_->stopping) return;
    if (state_->queue.size() >= state_->max_queue) {
      state_->queue.pop_front();  // a later checkpoint supersedes it as the witnessed head
      ++state_->skipped;
    }
    state_->queue.push_back(c);
  }
  state_->work_cv.notify_one();
}

Result<void> WitnessPublisher::stop(std::chrono::milliseconds grace) {
  if (!thread_.joinable()) return {};
  bool drained;
  {
    std::unique_lock<std::mutex> lock(state_->mu);
    state_->stopping = true;
    state_->work_cv.notify_all();
    drained = state_->idle_cv.wait_for(lock, grace,
                                       [&] { return state_->queue.empty() && !state_->busy; });
  }
  {
    std::lock_guard<std::mutex> lock(state_->sink_mu);
    state_->sink = nullptr;  // whoever owns the sink may go away after stop()
  }
  if (drained) {
    thread_.join();
    return {};
  }
  thread_.detach();  // it holds the state; it ends when the witness call returns
  return make_error("witness publishing not finished after " + std::to_string(grace.count()) +
                    " ms; left to finish in the background");
}

std::vector<WitnessStats> WitnessPublisher::stats() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->stats;
}

std::uint64_t WitnessPublisher::skipped() const {
  std::lock_guard<std::mutex> lock(state_->mu);
  return state_->skipped;
}

}  // namespace dc::audit
